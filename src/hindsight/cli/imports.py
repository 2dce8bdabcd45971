"""`import-evidence`, `evidence`, `accept-evidence`, `dismiss-evidence`, `hook-token`."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path
from typing import Any

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table
from rich.text import Text

from hindsight.analysis.evidence import proposal_span_warning, proposed_metrics
from hindsight.analysis.metrics import format_duration
from hindsight.cli.context import console, state, transaction
from hindsight.domain.timeline import localize, require_aware, resolve_zone
from hindsight.errors import BadUsageError, HindsightError
from hindsight.importers.base import EvidenceError, ImportOptions, Source
from hindsight.importers.registry import IMPORTERS, SERIES_KINDS
from hindsight.services.evidence import (
    accept_evidence,
    dismiss_evidence,
    list_evidence,
)
from hindsight.services.imports import (
    ImportSummary,
    create_hook_token,
    import_evidence,
    import_window,
)

KINDS = ", ".join(sorted(IMPORTERS))


def _time(value: str | None, zone: str, option: str) -> dt.datetime | None:
    if not value:
        return None
    try:
        return require_aware(localize(dt.datetime.fromisoformat(value), zone), option)
    except ValueError as error:
        raise BadUsageError(f"{option}: {error}") from None


def _options(since: str | None, until: str | None, tz: str, **kind_options: Any) -> ImportOptions:
    """The import options, every bad value refused as bad usage (exit 2) naming its option."""
    try:
        resolve_zone(tz)
    except ValueError as error:
        raise BadUsageError(f"--tz: {str(error).removeprefix('zone: ')}") from None
    try:
        return ImportOptions(
            since=_time(since, tz, "--since"),
            until=_time(until, tz, "--until"),
            zone=tz,
            **kind_options,
        )
    except (ValueError, HindsightError) as error:
        raise BadUsageError(str(error)) from None


def _open(kind: str, path: Path) -> Source:
    """The evidence to read; an unknown kind or a missing or unreadable path is bad usage."""
    if kind in SERIES_KINDS:
        raise BadUsageError(
            f"{kind}: metric series are not timeline events; use `{SERIES_KINDS[kind]}`"
        )
    if kind not in IMPORTERS:
        raise BadUsageError(f"{kind}: no importer of that kind; known kinds: {KINDS}")
    try:
        return Source.open(path)
    except EvidenceError as error:
        raise BadUsageError(str(error)) from None


class _Bar:
    def __init__(self, progress: Progress, task: int) -> None:
        self.progress, self.task = progress, task

    def advance(self, amount: int) -> None:
        self.progress.update(self.task, advance=amount)  # type: ignore[arg-type]


def _window_line(summary: ImportSummary, basis: str) -> str:
    def at(value: dt.datetime | None) -> str:
        return f"{value.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S}" if value else "…"

    if summary.since is None and summary.until is None:
        return "window: every time in the file"
    why = basis or "--since/--until"
    return f"window: {at(summary.since)} to {at(summary.until)} UTC ({why})"


def _print_summary(summary: ImportSummary, preview: bool, basis: str = "") -> None:
    verb = "would add" if preview else "added"
    console.print(Text(_window_line(summary, basis)))
    if summary.far_outside:
        console.print(Text(f"warning: {summary.far_outside}", style="bold"))
    console.print(
        Text(
            f"{summary.origin}: {verb} {len(summary.added)} suggested event"
            f"{'s' if len(summary.added) != 1 else ''}, merged {summary.merged} "
            f"with events from other tools, skipped {summary.skipped_total}"
        )
    )
    for reason, count in sorted(summary.skipped.items(), key=lambda item: -item[1]):
        console.print(Text(f"  skipped {count:,}: {reason}"))
    if summary.added:
        table = Table(box=None, header_style="bold")
        for column in ("Id", "Time (UTC)", "Kind", "Actor", "Event"):
            table.add_column(column)
        for item in summary.added[:30]:
            table.add_row(
                str(item.id) if item.id > 0 else "—",
                item.event.at.strftime("%Y-%m-%d %H:%M:%S"),
                item.event.kind.value,
                Text(item.event.actor),
                Text(item.event.text.split("\n")[0][:100]),
            )
        console.print(table)
        if len(summary.added) > 30:
            console.print(
                Text(
                    f"… and {len(summary.added) - 30} more "
                    "(`hindsight evidence KEY` lists them all)"
                )
            )
    if summary.proposals:
        console.print(Text("Proposed key moments:", style="bold"))
        for proposal in summary.proposals:
            console.print(
                Text(
                    f"  {proposal.moment.value:15} "
                    f"{proposal.event.at:%Y-%m-%d %H:%M:%S} UTC — {proposal.reason}"
                )
            )
        if warning := proposal_span_warning(summary.proposals):
            console.print(Text(f"  Warning: {warning}", style="yellow"))
            return
        metrics = proposed_metrics(summary.proposals)
        console.print(
            Text(
                "  "
                + ", ".join(f"{label}: {format_duration(value)}" for label, value in metrics.rows())
            )
        )


def import_evidence_command(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="Incident key."),
    kind: str = typer.Argument(..., help=f"What the file is: {KINDS}."),
    path: Path = typer.Argument(..., help="A file, a folder, a .zip, or a git repository."),
    since: str | None = typer.Option(None, help="Only events at or after this time (ISO 8601)."),
    until: str | None = typer.Option(None, help="Only events at or before this time."),
    tz: str = typer.Option("UTC", "--tz", help="Zone of times written without one."),
    channel: list[str] = typer.Option([], help="Slack: only this channel (repeatable)."),
    branch: str = typer.Option(
        "",
        help="Git: the deployed branch or a revision range A..B (default: checked out).",
    ),
    config: list[str] = typer.Option(
        [], help="Git: path pattern of config files, e.g. 'config/*.yaml' (repeatable)."
    ),
    timestamp_format: str = typer.Option("", help="Logs: strftime format of line times."),
    timestamp_field: str = typer.Option("", help="JSON Lines logs: the time field."),
    baseline: int = typer.Option(30, help="Logs: minutes of normal behaviour at the start."),
    year: int | None = typer.Option(
        None, help="Logs: year of syslog times (default: of --since/--until, else this year)."
    ),
    preview: bool = typer.Option(False, help="Show what would be imported; write nothing."),
    any_time: bool = typer.Option(
        False, "--any-time", help="No time window: read every time in the file."
    ),
) -> None:
    """Import evidence as suggested timeline events (all or nothing; re-importing is a no-op).

    Without --since/--until (or --any-time) the window is the incident's impact window, an
    hour either side (or the day around its first event); the summary says which was used."""
    options = _options(
        since,
        until,
        tz,
        channels=tuple(channel),
        branch=branch,
        config_patterns=tuple(config) or ImportOptions.config_patterns,
        timestamp_format=timestamp_format,
        timestamp_field=timestamp_field,
        baseline_minutes=baseline,
        year=year,
    )
    basis = ""
    if since is None and until is None and not any_time:
        with transaction(ctx) as session:
            window = import_window(session, key=key)
        if window is not None:
            options = replace(options, since=window.since, until=window.until)
            basis = f"{window.basis}; --since/--until or --any-time to change"
    source = _open(kind, path)
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with (
        Progress(*columns, console=console, transient=True) as progress,
        transaction(ctx) as session,
    ):
        task = progress.add_task(f"reading {kind}", total=source.size or None)
        summary = import_evidence(
            session,
            key=key,
            kind=kind,
            source=source,
            options=options,
            author=state(ctx).author,
            progress=_Bar(progress, task),
            preview=preview,
        )
    _print_summary(summary, preview, basis)
    if not preview and summary.added:
        console.print(
            Text(
                f"Review them with `hindsight evidence {key}`, then "
                f"`hindsight accept-evidence {key} --all` (or by id)."
            )
        )


def evidence(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="Incident key."),
) -> None:
    """List the suggested events waiting to be accepted into the timeline."""
    with transaction(ctx) as session:
        items = list_evidence(session, key=key)
    if not items:
        console.print(Text("No suggested events. Import some with `hindsight import-evidence`."))
        return
    table = Table(box=None, header_style="bold")
    for column in ("Id", "Time (UTC)", "Source", "Kind", "Actor", "Event", "From"):
        table.add_column(column)
    for item in items:
        table.add_row(
            str(item.id),
            item.event.at.strftime("%Y-%m-%d %H:%M:%S"),
            f"{item.icon} {item.event.source}",
            item.event.kind.value,
            Text(item.event.actor),
            Text(item.event.text.split("\n")[0][:90]),
            Text("; ".join(str(p) for p in item.event.provenance)[:80]),
        )
    console.print(table)


def accept_evidence_command(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="Incident key."),
    ids: list[int] = typer.Argument(None, help="Ids from `hindsight evidence`."),
    accept_all: bool = typer.Option(False, "--all", help="Accept every suggested event."),
) -> None:
    """Accept suggested events into the timeline (one revision)."""
    if not ids and not accept_all:
        raise BadUsageError("give the ids to accept, or --all")
    with transaction(ctx) as session:
        stored, count = accept_evidence(
            session, key=key, ids=None if accept_all else ids, author=state(ctx).author
        )
    console.print(
        Text(
            f"accepted {count} event{'s' if count != 1 else ''} into {key} "
            f"(version {stored.version})"
        )
    )


def dismiss_evidence_command(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="Incident key."),
    ids: list[int] = typer.Argument(None, help="Ids from `hindsight evidence`."),
    dismiss_all: bool = typer.Option(False, "--all", help="Dismiss every suggested event."),
) -> None:
    """Set suggested events aside; importing the same file again will not bring them back."""
    if not ids and not dismiss_all:
        raise BadUsageError("give the ids to dismiss, or --all")
    with transaction(ctx) as session:
        count = dismiss_evidence(session, key=key, ids=None if dismiss_all else ids)
    console.print(Text(f"dismissed {count} event{'s' if count != 1 else ''}"))


def hook_token(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="Incident key."),
) -> None:
    """Make the secret Alertmanager uses to post alerts live into this incident."""
    with transaction(ctx) as session:
        token = create_hook_token(session, key=key, author=state(ctx).author)
    console.print(
        Text(
            f"POST alerts to /api/v1/hooks/alertmanager/{key} with the header\n"
            f"  Authorization: Bearer {token}\n"
            "This is shown once; a new token replaces the old one."
        )
    )


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("import-evidence")(import_evidence_command)
    app.command()(evidence)
    app.command("accept-evidence")(accept_evidence_command)
    app.command("dismiss-evidence")(dismiss_evidence_command)
    app.command("hook-token")(hook_token)
