"""`export` and `import`: the Markdown and JSON forms."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table
from rich.text import Text

from hindsight.cli.context import console, state, transaction
from hindsight.errors import BadUsageError
from hindsight.rendering.reports import BUILT_IN, template_names
from hindsight.services.documents import import_documents
from hindsight.services.reports import ReportFormat, export_report


def export(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="Incident key."),
    fmt: ReportFormat = typer.Option(
        ReportFormat.MARKDOWN, "--format", "-f", help="markdown, json, html or pdf."
    ),
    template: str | None = typer.Option(
        None, "--template", "-t", help="Report template for html and pdf (see `templates`)."
    ),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write to this file instead of standard output."
    ),
) -> None:
    """Export a postmortem: Markdown or JSON (importing it back gives the same postmortem), or
    a report as standalone HTML or PDF through a template."""
    settings = state(ctx).settings
    if fmt is ReportFormat.PDF and output is None:
        raise BadUsageError("a PDF needs --output FILE")
    with transaction(ctx) as session:
        report = export_report(
            session,
            key=key,
            fmt=fmt,
            template=template,
            team_dir=settings.resolved_templates_dir(),
            default_template=settings.default_template,
        )
    if output is None:
        typer.echo(report.content.decode("utf-8"), nl=False)
        return
    try:
        output.write_bytes(report.content)
    except OSError as error:
        raise BadUsageError(f"cannot write {output}: {error.strerror or error}") from None
    console.print(Text(f"wrote {output}"))


def templates(ctx: typer.Context) -> None:
    """List the report templates: built-in ones and the team's own."""
    settings = state(ctx).settings
    team = settings.resolved_templates_dir()
    for name in template_names(team):
        marks = []
        if name not in BUILT_IN:
            marks.append(f"from {team}")
        if name == settings.default_template:
            marks.append("team default")
        console.print(Text(name + (f"  ({', '.join(marks)})" if marks else "")))


def import_files(
    ctx: typer.Context,
    files: list[Path] = typer.Argument(..., help="Markdown (.md) or JSON (.json) postmortems."),
) -> None:
    """Create or update incidents from files (matched by key); all files or none."""
    with transaction(ctx) as session:
        results = import_documents(session, paths=files, author=state(ctx).author)
    table = Table(box=None, header_style="bold")
    for column in ("File", "Key", "Outcome", "Version"):
        table.add_column(column)
    for result in results:
        table.add_row(Text(result.source), Text(result.key), result.outcome, str(result.version))
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command()(export)
    app.command()(templates)
    app.command("import")(import_files)
