"""`actions` (action items across postmortems) and `insights` (the trends)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import typer
from rich.table import Table

from hindsight.analysis.metrics import format_duration
from hindsight.cli.context import console, transaction
from hindsight.errors import BadUsageError
from hindsight.services.action_items import ActionItemFilter, list_action_items
from hindsight.services.incidents import utc_now
from hindsight.services.insights import InsightFilter, gather_insights, insights_as_dict


def _date(value: str | None, option: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise BadUsageError(f"{option}: {value!r} is not a date like 2024-05-31") from None


def actions(
    ctx: typer.Context,
    owner: str | None = typer.Option(None, help="Only items with this owner (exactly)."),
    team: str | None = typer.Option(None, help="Only items whose owner is in this team."),
    status: list[str] = typer.Option([], "--status", help="open, in_progress, done, wont_do."),
    kind: list[str] = typer.Option([], "--kind", help="prevent, detect, mitigate, process."),
    priority: list[str] = typer.Option([], "--priority", help="P1 to P4."),
    due: str | None = typer.Option(None, help="overdue, week (due in 7 days) or none."),
    service: str | None = typer.Option(None, help="Only items of incidents of this service."),
    severity: list[str] = typer.Option([], "--severity", help="Only incidents of these."),
    sort: str = typer.Option("due", help="due, priority, oldest, newest, owner, severity…"),
    limit: int = typer.Option(50, min=1, max=100_000, help="Rows per page."),
    page: int = typer.Option(1, min=1, help="Page number."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List action items across every postmortem, soonest due first."""
    filters = ActionItemFilter(
        owner=owner,
        team=team,
        statuses=status,
        kinds=kind,
        priorities=priority,
        due=due,
        service=service,
        severities=severity,
    )
    with transaction(ctx) as session:
        result = list_action_items(
            session, filters=filters, sort=sort, limit=limit, offset=(page - 1) * limit
        )
    now = utc_now()
    if as_json:
        items = [
            _item_json(item.__dict__, item.age(now), item.time_to_close) for item in result.items
        ]
        payload = {"total": result.total, "page": page, "limit": limit, "items": items}
        typer.echo(json.dumps(payload, indent=2, ensure_ascii=False))
        return
    if not result.items:
        console.print("No action items match." if result.total == 0 else "No items on this page.")
        return
    table = Table(box=None, pad_edge=False)
    for column in ("incident", "item", "title", "owner", "priority", "due", "status", "age"):
        table.add_column(column, overflow="fold")
    for item in result.items:
        overdue = " (overdue)" if item.is_overdue(now.date()) else ""
        age = (
            f"closed in {format_duration(item.time_to_close)}"
            if item.closed_at
            else format_duration(item.age(now))
        )
        table.add_row(
            item.key,
            item.item_id,
            item.title,
            item.owner or "—",
            item.priority,
            (item.due.isoformat() if item.due else "—") + overdue,
            item.status,
            age,
        )
    console.print(table)
    console.print(f"{result.total} item{'s' if result.total != 1 else ''}, page {page}")


def _item_json(data: dict[str, Any], age: dt.timedelta | None, closing: dt.timedelta | None) -> Any:
    out = {
        key: value.isoformat() if isinstance(value, dt.date | dt.datetime) else value
        for key, value in data.items()
    }
    out["age_seconds"] = age.total_seconds() if age is not None else None
    out["time_to_close_seconds"] = closing.total_seconds() if closing is not None else None
    return out


def insights(
    ctx: typer.Context,
    start: str | None = typer.Option(None, "--from", help="First day, YYYY-MM-DD."),
    end: str | None = typer.Option(None, "--to", help="Last day, YYYY-MM-DD."),
    service: str | None = typer.Option(None, help="Only incidents affecting this service."),
    team: str | None = typer.Option(None, help="Only incidents with a participant of this team."),
    severity: list[str] = typer.Option([], "--severity", help="Only these severities."),
    as_json: bool = typer.Option(False, "--json", help="Print every number as JSON."),
) -> None:
    """The trends: incidents per month, response times, causes, follow-through (default: every
    incident)."""
    filters = InsightFilter(
        start=_date(start, "--from"),
        end=_date(end, "--to"),
        service=service,
        team=team,
        severities=severity,
    )
    with transaction(ctx) as session:
        result = gather_insights(session, filters=filters)
    if as_json:
        typer.echo(json.dumps(insights_as_dict(result), indent=2, ensure_ascii=False))
        return
    publication = result.publication
    console.print(f"{result.incident_count} incidents, {result.item_count} action items")
    if publication.share is not None:
        console.print(
            f"SEV1-SEV2 with a published postmortem: {publication.share:.0%} "
            f"({publication.published} of {publication.serious})"
        )
    recurrence = result.recurrence
    if recurrence.share is not None:
        console.print(
            f"recurrences of an earlier incident: {recurrence.share:.0%} "
            f"({recurrence.recurrences} of {recurrence.incidents})"
        )
    for name, value in result.response_overall.items():
        if value.count:
            console.print(
                f"{name.replace('_', ' ')}: median {value.median:.0f} min, "
                f"p90 {value.p90:.0f} min ({value.count} incidents)"
            )
    if result.top_factors:
        top = ", ".join(f"{name} ({count})" for name, count in result.top_factors[:5])
        console.print(f"top contributing factors: {top}")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command()(actions)
    app.command()(insights)
