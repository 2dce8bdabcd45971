"""`new`, `list`, `show` and `history`."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import typer
from rich.cells import cell_len
from rich.table import Table
from rich.text import Text

from hindsight.cli.context import console, state, transaction
from hindsight.cli.layout import ColumnFit, fit_columns
from hindsight.cli.show import SEVERITY_STYLE, render_history, render_postmortem
from hindsight.domain.codec import postmortem_from_dict
from hindsight.errors import BadUsageError
from hindsight.services.incidents import (
    IncidentFilter,
    IncidentSummary,
    create_postmortem,
    get_postmortem,
    list_postmortems,
    list_revisions,
    new_key,
)


def read_text_argument(value: str) -> str:
    """'@path' reads a file, '@-' reads standard input; anything else is the text itself."""
    if not value.startswith("@"):
        return value
    if value == "@-":
        return typer.get_text_stream("stdin").read()
    try:
        return Path(value[1:]).read_text(encoding="utf-8")
    except OSError as error:
        raise BadUsageError(f"cannot read {value[1:]}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise BadUsageError(f"cannot read {value[1:]}: it is not UTF-8 text") from None


def new(
    ctx: typer.Context,
    title: str = typer.Option(..., "--title", "-t", help="What happened, in a few words."),
    severity: str = typer.Option(..., "--severity", "-s", help="SEV1 (worst) to SEV5."),
    summary: str = typer.Option("", help="Overview prose (Markdown); @FILE reads a file."),
    service: list[str] = typer.Option([], "--service", help="Affected service (repeatable)."),
    tag: list[str] = typer.Option([], "--tag", help="Tag (repeatable)."),
    status: str = typer.Option(
        "investigating", help="investigating, identified, monitoring, resolved."
    ),
    visibility: str = typer.Option("internal", help="internal or restricted."),
    key: str | None = typer.Option(None, help="Key to use (default: DATE-title-slug)."),
    date: str | None = typer.Option(
        None, help="Incident date for the key, YYYY-MM-DD (default: today, UTC)."
    ),
) -> None:
    """Create an incident and print its key."""
    try:
        on = dt.date.fromisoformat(date) if date else dt.datetime.now(dt.UTC).date()
    except ValueError:
        raise BadUsageError(f"--date: {date!r} is not a date like 2024-05-31") from None
    with transaction(ctx) as session:
        data = {
            "key": key or new_key(session, title, on),
            "title": title,
            "severity": severity,
            "summary": read_text_argument(summary),
            "services": service,
            "tags": tag,
            "status": status,
            "visibility": visibility,
        }
        stored = create_postmortem(
            session, postmortem=postmortem_from_dict(data), author=state(ctx).author
        )
    console.print(stored.postmortem.key)


def list_incidents(
    ctx: typer.Context,
    severity: list[str] = typer.Option([], "--severity", help="Only these severities."),
    status: list[str] = typer.Option([], "--status", help="Only these incident statuses."),
    review: list[str] = typer.Option([], "--review", help="Only these review statuses."),
    service: str | None = typer.Option(None, help="Only incidents affecting this service."),
    tag: str | None = typer.Option(None, help="Only incidents with this tag."),
    search: str | None = typer.Option(None, help="Only titles containing this text."),
    limit: int = typer.Option(50, min=1, max=1000, help="Rows per page."),
    page: int = typer.Option(1, min=1, help="Page number."),
    archived: bool = typer.Option(False, "--archived", help="List the archived incidents instead."),
    recurring: bool = typer.Option(
        False, "--recurring", help="Only incidents linked as a recurrence."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List incidents, newest first (archived ones only with --archived)."""
    filters = IncidentFilter(
        severities=severity,
        statuses=status,
        review_statuses=review,
        service=service,
        tag=tag,
        text=search,
        archived=archived,
        recurring=recurring,
    )
    with transaction(ctx) as session:
        result = list_postmortems(session, filters=filters, limit=limit, offset=(page - 1) * limit)
    _check_page(page, result.total, limit)
    if as_json:
        items = [
            {
                **item.__dict__,
                "services": list(item.services),
                "tags": list(item.tags),
                "created_at": item.created_at.isoformat(),
                "updated_at": item.updated_at.isoformat(),
            }
            for item in result.items
        ]
        payload = {"total": result.total, "page": page, "limit": limit, "items": items}
        typer.echo(json.dumps(payload, indent=2, ensure_ascii=False))
        return
    if not result.total and archived:
        console.print("No archived incidents.")
        return
    if not result.total:
        console.print(
            "No incidents match. Create one with `hindsight new` or load the demo "
            "with `hindsight demo`."
        )
        return
    console.print(_incident_table(result.items, console.width))
    last = min(result.offset + limit, result.total)
    pages = f", page {page} of {_last_page(result.total, limit)}" if result.total > limit else ""
    console.print(Text(f"{result.offset + 1}-{last} of {result.total}{pages}", style="dim"))


def _last_page(total: int, limit: int) -> int:
    return max(1, -(-total // limit))


def _check_page(page: int, total: int, limit: int) -> None:
    last = _last_page(total, limit)
    if page > last:
        raise BadUsageError(
            f"page {page} is past the last page ({last}); {total} incident"
            f"{'s' if total != 1 else ''} match, {limit} a page"
        )


# Shown in this order; kept by priority as the terminal narrows: the key (always, whole: it is
# what `show` takes), severity, the title (ellipsised, never under 20 cells), status, review,
# services.
_LIST_PRIORITY = {"Key": 0, "Title": 2, "Severity": 1, "Status": 3, "Review": 4, "Services": 5}
_LIST_SHRINK = {"Title": 20, "Services": 12}


def _incident_table(items: list[IncidentSummary], width: int) -> Table:
    """The incident list as a table that fits `width` cells without wrapping a row."""
    rows = [
        {
            "Key": Text(item.key),
            "Title": Text(item.title),
            "Severity": Text(item.severity, SEVERITY_STYLE.get(item.severity, "")),
            "Status": Text(item.status),
            "Review": Text(item.review_status),
            "Services": Text(", ".join(item.services)),
        }
        for item in items
    ]
    fits = fit_columns(
        [
            ColumnFit(
                name,
                max([cell_len(name)] + [row[name].cell_len for row in rows]),
                priority,
                _LIST_SHRINK.get(name),
            )
            for name, priority in _LIST_PRIORITY.items()
        ],
        width,
    )
    table = Table(box=None, header_style="bold")
    for name, cells in fits.items():
        table.add_column(name, width=cells, no_wrap=True, overflow="ellipsis")
    for row in rows:
        table.add_row(*(row[name] for name in fits))
    return table


def show(ctx: typer.Context, key: str = typer.Argument(..., help="Incident key.")) -> None:
    """Show a postmortem: all six parts and the computed response metrics."""
    with transaction(ctx) as session:
        stored = get_postmortem(session, key=key)
    render_postmortem(console, stored)


def history(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="Incident key."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show who changed what, and when."""
    with transaction(ctx) as session:
        revisions = list_revisions(session, key=key)
    if as_json:
        payload = [
            {
                "version": r.version,
                "author": r.author,
                "at": r.at.isoformat(),
                "action": r.action,
                "changes": [c.to_dict() for c in r.changes],
            }
            for r in revisions
        ]
        typer.echo(json.dumps(payload, indent=2, ensure_ascii=False))
        return
    render_history(console, revisions)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command()(new)
    app.command("list")(list_incidents)
    app.command()(show)
    app.command()(history)
