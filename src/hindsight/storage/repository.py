"""Move postmortems between domain values and rows; the only place that knows both shapes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, func, select, update
from sqlalchemy.orm import Session

from hindsight.domain.actions import ActionItem
from hindsight.domain.codec import postmortem_from_dict, postmortem_to_dict
from hindsight.domain.incidents import Postmortem
from hindsight.storage.models import (
    ActionItemRow,
    IncidentRow,
    ParticipantRow,
    ServiceRow,
    TagRow,
    TimelineEventRow,
)

_SCALARS = (
    "key",
    "title",
    "summary",
    "public_summary",
    "severity",
    "status",
    "review_status",
    "visibility",
    "moment_order_note",
)
_JSON_PARTS = ("analysis", "impact", "response", "lessons")
_PARTICIPANT = ("name", "role", "team")
_EVENT = ("zone", "text", "kind", "actor", "source", "key_moment", "provenance")
_ACTION = ("title", "kind", "owner", "priority", "status", "reason", "tracker_url")


def action_items_of(session: Session, incident_id: int) -> tuple[ActionItem, ...]:
    """One incident's action items in order, without reading the rest of the incident."""
    rows = session.scalars(
        select(ActionItemRow)
        .where(ActionItemRow.incident_id == incident_id)
        .order_by(ActionItemRow.position)
    )
    return tuple(
        ActionItem(id=r.item_id, due=r.due, **{n: getattr(r, n) for n in _ACTION}) for r in rows
    )


def postmortem_from_row(row: IncidentRow) -> Postmortem:
    """Rebuild the domain value from an incident row and its children."""
    data: dict[str, Any] = {name: getattr(row, name) for name in _SCALARS + _JSON_PARTS}
    data["services"] = [service.name for service in row.services]
    data["tags"] = [tag.name for tag in row.tags]
    data["participants"] = [
        {"id": p.item_id, **{n: getattr(p, n) for n in _PARTICIPANT}} for p in row.participants
    ]
    data["timeline"] = [
        {"at": event.at, "id": event.item_id, **{n: getattr(event, n) for n in _EVENT}}
        for event in row.timeline
    ]
    data["action_items"] = [
        {"due": item.due, "id": item.item_id, **{n: getattr(item, n) for n in _ACTION}}
        for item in row.action_items
    ]
    return postmortem_from_dict(data)


def write_postmortem(row: IncidentRow, postmortem: Postmortem, now: dt.datetime) -> None:
    """Make `row` hold `postmortem`; child rows are replaced, so positions stay dense."""
    data = postmortem_to_dict(postmortem)
    for name in _SCALARS + _JSON_PARTS:
        setattr(row, name, data[name])
    row.services = [ServiceRow(position=i, name=n) for i, n in enumerate(postmortem.services)]
    row.tags = [TagRow(position=i, name=n) for i, n in enumerate(postmortem.tags)]
    row.participants = [
        ParticipantRow(position=i, item_id=item["id"], **{n: item[n] for n in _PARTICIPANT})
        for i, item in enumerate(data["participants"])
    ]
    row.timeline = [
        TimelineEventRow(position=i, at=event.at, item_id=event.id, **{n: item[n] for n in _EVENT})
        for i, (event, item) in enumerate(zip(postmortem.timeline, data["timeline"], strict=True))
    ]
    earlier = {item.item_id: item for item in row.action_items}
    teams: dict[str, str] = {}
    for person in postmortem.participants:
        if person.team:
            teams.setdefault(person.name, person.team)
    incident_facts = {
        "severity": data["severity"],
        "restricted": data["visibility"] == "restricted",
        "archived": row.archived_at is not None,
    }
    row.action_items = [
        ActionItemRow(
            position=i,
            due=action.due,
            item_id=action.id,
            team=teams.get(action.owner, ""),
            **incident_facts,
            **_item_times(earlier.get(action.id), action.is_closed, now),
            **{n: item[n] for n in _ACTION},
        )
        for i, (action, item) in enumerate(
            zip(postmortem.action_items, data["action_items"], strict=True)
        )
    ]
    row.updated_at = now


def _item_times(
    before: ActionItemRow | None, closed: bool, now: dt.datetime
) -> dict[str, dt.datetime | None]:
    """When an item opened (kept from its row, else now) and closed: kept while it stays
    closed, `now` when it becomes closed, None while open (a reopened item closes anew)."""
    opened_at = before.opened_at if before is not None and before.opened_at else now
    was_closed = before is not None and before.closed_at is not None
    closed_at = (before.closed_at if was_closed and before else now) if closed else None
    return {"opened_at": opened_at, "closed_at": closed_at}


def set_archived(
    session: Session, row: IncidentRow, *, archived: bool, by: str, now: dt.datetime
) -> None:
    """Archive or unarchive the incident (one new version), and its items' copy of the fact
    (one UPDATE, which flushes the incident's change first)."""
    row.archived_at = now if archived else None
    row.archived_by = by if archived else None
    row.updated_at = now
    session.execute(
        update(ActionItemRow).where(ActionItemRow.incident_id == row.id).values(archived=archived)
    )


def refresh_item_facts(connection: Connection) -> None:
    """Recompute every item's copies of its incident's facts and its owner's team, for rows
    written around write_postmortem (bulk seeding): the rule migration 0019 backfills with."""
    incident = select(IncidentRow).where(IncidentRow.id == ActionItemRow.incident_id)
    team = (
        select(ParticipantRow.team)
        .where(
            ParticipantRow.incident_id == ActionItemRow.incident_id,
            ParticipantRow.name == ActionItemRow.owner,
            ParticipantRow.team != "",
        )
        .order_by(ParticipantRow.position)
        .limit(1)
        .scalar_subquery()
    )
    connection.execute(
        update(ActionItemRow).values(
            severity=incident.with_only_columns(IncidentRow.severity).scalar_subquery(),
            restricted=incident.with_only_columns(
                IncidentRow.visibility == "restricted"
            ).scalar_subquery(),
            archived=incident.with_only_columns(
                IncidentRow.archived_at.is_not(None)
            ).scalar_subquery(),
            team=func.coalesce(team, ""),
        )
    )
