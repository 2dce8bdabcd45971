"""`export` and `import`: the Markdown and JSON forms."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table
from rich.text import Text

from hindsight.cli.context import console, state, transaction
from hindsight.errors import HindsightError
from hindsight.services.documents import DocumentFormat, export_postmortem, import_documents


def export(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="Incident key."),
    fmt: DocumentFormat = typer.Option(
        DocumentFormat.MARKDOWN, "--format", "-f", help="markdown or json."
    ),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write to this file instead of standard output."
    ),
) -> None:
    """Export a postmortem; importing the file back gives the same postmortem."""
    with transaction(ctx) as session:
        text = export_postmortem(session, key=key, fmt=fmt)
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as error:
        raise HindsightError(f"cannot write {output}: {error.strerror or error}") from None
    console.print(Text(f"wrote {output}"))


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
    app.command("import")(import_files)
