"""`new`, `list`, `show` and `history`."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import typer
from rich.table import Table
from rich.text import Text

from hindsight.cli.context import console, state, transaction
from hindsight.cli.show import SEVERITY_STYLE, render_history, render_postmortem
from hindsight.domain.codec import postmortem_from_dict
from hindsight.errors import HindsightError
from hindsight.services.incidents import (
    IncidentFilter,
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
    except (OSError, UnicodeDecodeError) as error:
        raise HindsightError(f"cannot read {value[1:]}: {error}") from None


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
        raise HindsightError(f"--date: {date!r} is not a date like 2024-05-31") from None
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
    )
    with transaction(ctx) as session:
        result = list_postmortems(session, filters=filters, limit=limit, offset=(page - 1) * limit)
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
    table = Table(box=None, header_style="bold")
    table.add_column("Key", no_wrap=True)
    for column in ("Title", "Severity", "Status", "Review", "Services"):
        table.add_column(column)
    for item in result.items:
        table.add_row(
            Text(item.key),
            Text(item.title),
            Text(item.severity, SEVERITY_STYLE[item.severity]),
            Text(item.status),
            Text(item.review_status),
            Text(", ".join(item.services)),
        )
    console.print(table)
    last = min(result.offset + limit, result.total)
    console.print(f"[dim]{result.offset + 1}-{last} of {result.total}[/dim]")


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
