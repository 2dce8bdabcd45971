"""`import-archive`: other teams' postmortems (Markdown, PDF; folders and .zip files)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.text import Text

from hindsight.cli.context import console, errors, state, transaction
from hindsight.errors import BadUsageError, HindsightError
from hindsight.services.archive_import import (
    FileOutcome,
    headings_for,
    import_archive,
    preview_archive,
    summarise,
)
from hindsight.services.archive_sources import iter_reports

_PART_LABELS = {
    "summary": "overview",
    "timeline": "timeline",
    "participants": "participants",
    "analysis": "root cause",
    "impact": "impact",
    "response": "response",
    "went_well": "went well",
    "went_wrong": "went wrong",
    "got_lucky": "got lucky",
    "lessons": "lessons",
    "action_items": "action items",
}


def _ranges(lines: list[int]) -> str:
    """[1, 2, 3, 7] -> '1-3, 7'."""
    spans: list[list[int]] = []
    for line in sorted(lines):
        if spans and line == spans[-1][1] + 1:
            spans[-1][1] = line
        else:
            spans.append([line, line])
    return ", ".join(f"{a}-{b}" if a != b else str(a) for a, b in spans)


def _print_outcome(outcome: FileOutcome, *, dry_run: bool) -> None:
    head = f"{outcome.name}: {outcome.outcome}"
    if outcome.key:
        head += f" {outcome.key} ({outcome.title})"
    if outcome.reason:
        head += f": {outcome.reason}"
    console.print(Text(head, style="bold" if outcome.outcome != "refused" else "bold red"))
    if dry_run:
        for part, lines in outcome.lines_by_part.items():
            console.print(Text(f"  {_PART_LABELS.get(part, part)}: lines {_ranges(list(lines))}"))
    for flag in outcome.flags:
        console.print(Text(f"  flag line {flag.line} [{flag.code}]: {flag.message}"))


def import_archive_command(
    ctx: typer.Context,
    paths: list[Path] = typer.Argument(
        ..., help="Report files (.md, .pdf), folders (searched recursively) or .zip files."
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Show where each report's lines go and every flag; write nothing."
    ),
    zone: str | None = typer.Option(
        None, "--zone", help="Time zone for reports that name none (IANA name or +HH:MM)."
    ),
    fmt: str = typer.Option("auto", "--format", help="auto, markdown or pdf."),
) -> None:
    """Import other teams' postmortems as draft incidents: one incident per report, the same
    report again updates it; each report is imported whole or refused."""
    settings = state(ctx).settings
    try:
        reports = list(iter_reports(paths))
    except OSError as error:
        raise BadUsageError(f"cannot read {error.filename}: {error.strerror}") from None
    if not reports:
        raise BadUsageError("no reports found (looked for .md, .markdown, .pdf and .zip files)")
    headings = headings_for(settings.archive_headings)
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn())
    with (
        Progress(*columns, console=errors, transient=True, disable=len(reports) < 20) as bar,
        transaction(ctx) as session,
    ):
        task = bar.add_task("dry run" if dry_run else "importing", total=len(reports))

        def advance(done: int, total: int, name: str) -> None:
            bar.update(task, completed=done, total=total)

        if dry_run:
            outcomes = preview_archive(
                session,
                reports,
                zone=zone,
                layout=fmt,
                headings=headings,
                progress=advance,
                total=len(reports),
            )
        else:
            outcomes = import_archive(
                session,
                reports,
                author=state(ctx).author,
                zone=zone,
                layout=fmt,
                headings=headings,
                progress=advance,
                total=len(reports),
            )
    for outcome in outcomes:
        _print_outcome(outcome, dry_run=dry_run)
    counts = summarise(outcomes)
    summary = ", ".join(f"{count} {name}" for name, count in counts.items())
    console.print(Text(("dry run, nothing written: " if dry_run else "") + summary))
    if counts.get("refused") and counts["refused"] == len(outcomes):
        raise HindsightError("every report was refused; nothing was imported")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("import-archive")(import_archive_command)
