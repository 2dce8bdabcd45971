"""Action items across every postmortem: the list a person follows up, and bulk status changes.

Items are rows (storage/models/incidents.py ActionItemRow) that carry copies of their incident's
severity, restriction and archive state (written with them, storage/repository.py), read
through the one visibility rule (storage/visibility.py visible_items), so a restricted
incident's items show only to those who may see the incident, and archived incidents' items
leave the list as the incidents leave theirs. An item's team is the team of the first
participant of the same postmortem whose name is the item's owner; an owner who is no
participant has no team.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session

from hindsight.domain.access import Actor
from hindsight.domain.actions import ActionItem, ActionKind, ActionStatus, Priority
from hindsight.domain.editing import set_fields
from hindsight.domain.identity import index_of
from hindsight.domain.incidents import Postmortem, Severity
from hindsight.errors import InvalidInputError, NotFoundError
from hindsight.services.incidents import (
    StoredPostmortem,
    update_postmortem,
    utc_now,
)
from hindsight.storage.models import ActionItemRow, IncidentRow, ServiceRow, UserRow
from hindsight.storage.visibility import count_visible_items, visible_items

Query = TypeVar("Query", bound=Select[*tuple[Any, ...]])
CLOSED = (ActionStatus.DONE.value, ActionStatus.WONT_DO.value)
DUE_CHOICES = ("overdue", "week", "none")
MAX_BULK = 500


@dataclass(frozen=True)
class ActionItemFilter:
    """What the list is narrowed to; empty values do not filter. `mine` keeps the items
    whose owner is the viewer's username or display name."""

    mine: bool = False
    owner: str | None = None
    team: str | None = None
    statuses: Sequence[str] = ()
    kinds: Sequence[str] = ()
    priorities: Sequence[str] = ()
    due: str | None = None
    service: str | None = None
    severities: Sequence[str] = ()


@dataclass(frozen=True)
class ActionItemSummary:
    """One line of the list: the item, its postmortem and when it opened and closed."""

    key: str
    incident_title: str
    severity: str
    version: int
    item_id: str
    title: str
    kind: str
    owner: str
    team: str
    priority: str
    due: dt.date | None
    status: str
    reason: str
    tracker_url: str
    opened_at: dt.datetime | None
    closed_at: dt.datetime | None
    owner_is_account: bool = False

    def age(self, now: dt.datetime) -> dt.timedelta | None:
        """How long the item has been open (until it closed, if it did)."""
        if self.opened_at is None:
            return None
        return (self.closed_at or now) - self.opened_at

    @property
    def time_to_close(self) -> dt.timedelta | None:
        """Opened to closed, for closed items."""
        if self.opened_at is None or self.closed_at is None:
            return None
        return self.closed_at - self.opened_at

    def is_overdue(self, today: dt.date) -> bool:
        """Open (or in progress) past its due date."""
        return self.due is not None and self.due < today and self.status not in CLOSED


@dataclass(frozen=True)
class ActionItemPage:
    """A page of action items and how many matched."""

    items: list[ActionItemSummary]
    total: int
    limit: int
    offset: int
    accounts: frozenset[str] = field(default_factory=frozenset)


SORTS: dict[str, tuple[Any, ...]] = {
    # `due IS NULL` as written in the list's indexes (storage/models/incidents.py), so pages
    # walk them.
    "due": (ActionItemRow.due.is_(None), ActionItemRow.due.asc(), ActionItemRow.id.asc()),
    "priority": (ActionItemRow.priority.asc(), ActionItemRow.due.is_(None), ActionItemRow.due),
    "oldest": (ActionItemRow.opened_at.asc(), ActionItemRow.id.asc()),
    "newest": (ActionItemRow.opened_at.desc(), ActionItemRow.id.desc()),
    "owner": (ActionItemRow.owner.asc(), ActionItemRow.id.asc()),
    "severity": (ActionItemRow.severity.asc(), ActionItemRow.id.asc()),
    "status": (ActionItemRow.status.asc(), ActionItemRow.id.asc()),
    "closed": (ActionItemRow.closed_at.desc(), ActionItemRow.id.desc()),
}


def owner_names(actor: Actor | None) -> list[str]:
    """The owner values that mean `actor`: the account's username and display name."""
    if actor is None:
        return []
    return sorted({name for name in (actor.username, actor.display_name) if name.strip()})


def _check(filters: ActionItemFilter, sort: str) -> None:
    """Unknown values are a mistake worth saying, not an empty list."""
    allowed = (
        ("status", filters.statuses, [s.value for s in ActionStatus]),
        ("kind", filters.kinds, [k.value for k in ActionKind]),
        ("priority", filters.priorities, [p.value for p in Priority]),
        ("severity", filters.severities, [s.value for s in Severity]),
        ("due", [filters.due] if filters.due else [], list(DUE_CHOICES)),
        ("sort", [sort], list(SORTS)),
    )
    for name, values, known in allowed:
        for value in values:
            if value not in known:
                raise InvalidInputError(f"{name}: {value!r} is not one of {', '.join(known)}")


def due_condition(due: str, today: dt.date) -> ColumnElement[bool]:
    """Overdue: open past its due date; week: open and due in the next seven days; none: no
    due date."""
    still_open = ActionItemRow.status.not_in(CLOSED)
    if due == "overdue":
        return and_(ActionItemRow.due < today, still_open)
    if due == "week":
        return and_(
            ActionItemRow.due >= today,
            ActionItemRow.due < today + dt.timedelta(days=7),
            still_open,
        )
    return ActionItemRow.due.is_(None)


def _filtered(
    query: Query, filters: ActionItemFilter, actor: Actor | None, today: dt.date
) -> Query:
    """The filters, on the item row alone (it carries its incident's severity and its owner's
    team); visibility and the archive are `_visible`'s."""
    if filters.mine:
        # The operator (no account) owns nothing: an empty IN list matches no item.
        query = query.where(ActionItemRow.owner.in_(owner_names(actor)))
    if filters.owner:
        query = query.where(ActionItemRow.owner == filters.owner)
    if filters.team:
        query = query.where(ActionItemRow.team == filters.team)
    if filters.statuses:
        query = query.where(ActionItemRow.status.in_(filters.statuses))
    if filters.kinds:
        query = query.where(ActionItemRow.kind.in_(filters.kinds))
    if filters.priorities:
        query = query.where(ActionItemRow.priority.in_(filters.priorities))
    if filters.due:
        query = query.where(due_condition(filters.due, today))
    if filters.service:
        services = select(ServiceRow.incident_id).where(ServiceRow.name == filters.service)
        query = query.where(ActionItemRow.incident_id.in_(services))
    if filters.severities:
        query = query.where(ActionItemRow.severity.in_(filters.severities))
    return query


def list_action_items(
    session: Session,
    *,
    filters: ActionItemFilter | None = None,
    actor: Actor | None = None,
    sort: str = "due",
    limit: int = 50,
    offset: int = 0,
    today: dt.date | None = None,
) -> ActionItemPage:
    """A page of the action items `actor` may see, in `sort` order (see SORTS), with the
    total; `today` decides what is overdue (default: the UTC date)."""
    filters = filters or ActionItemFilter()
    today = today or utc_now().date()
    _check(filters, sort)
    total = count_visible_items(
        session, _filtered(select(func.count()), filters, actor, today), actor
    )
    # Two steps: the page's item ids in order (walking an index of item columns only), then
    # those rows with their incident's key and title.
    page_ids: Select[Any] = _filtered(select(ActionItemRow.id), filters, actor, today)
    ids = list(
        session.scalars(
            visible_items(page_ids, actor).order_by(*SORTS[sort]).limit(limit).offset(offset)
        )
    )
    columns = (
        ActionItemRow.id.label("row_id"),
        IncidentRow.key,
        IncidentRow.title.label("incident_title"),
        IncidentRow.severity,
        IncidentRow.version,
        ActionItemRow.item_id,
        ActionItemRow.title,
        ActionItemRow.kind,
        ActionItemRow.owner,
        ActionItemRow.team,
        ActionItemRow.priority,
        ActionItemRow.due,
        ActionItemRow.status,
        ActionItemRow.reason,
        ActionItemRow.tracker_url,
        ActionItemRow.opened_at,
        ActionItemRow.closed_at,
    )
    found = (
        {
            row.row_id: row
            for row in session.execute(
                select(*columns)
                .join(IncidentRow, IncidentRow.id == ActionItemRow.incident_id)
                .where(ActionItemRow.id.in_(ids))
            )
        }
        if ids
        else {}
    )
    rows = [found[row_id] for row_id in ids if row_id in found]
    accounts = _accounts_named(session, {row.owner for row in rows if row.owner})
    items = [
        ActionItemSummary(
            **{k: v for k, v in row._asdict().items() if k != "row_id"},
            owner_is_account=row.owner.lower() in accounts,
        )
        for row in rows
    ]
    return ActionItemPage(items, total, limit, offset, frozenset(accounts))


def _accounts_named(session: Session, owners: set[str]) -> set[str]:
    """Which of these owners are an account's username or display name (lower case)."""
    if not owners:
        return set()
    lowered = [owner.lower() for owner in owners]
    rows = session.execute(
        select(UserRow.username, UserRow.display_name).where(
            or_(
                func.lower(UserRow.username).in_(lowered),
                func.lower(UserRow.display_name).in_(lowered),
            )
        )
    ).all()
    return {name.lower() for row in rows for name in row if name and name.lower() in lowered}


@dataclass(frozen=True)
class ItemRef:
    """One item to change: its postmortem's key, its id, and (optionally) the incident version
    the caller read, so a change made meanwhile is merged or reported as a conflict."""

    key: str
    item_id: str
    version: int | None = None


def _set_status(items: Sequence[str], status: ActionStatus, reason: str, key: str) -> Any:
    def change(current: Postmortem) -> Postmortem:
        values: dict[str, Any] = {}
        for item_id in items:
            if index_of(current.action_items, item_id) is None:
                raise NotFoundError(f"{key}: no action item with id '{item_id}'")
            values[f"action_items.{item_id}.status"] = status.value
            if status is ActionStatus.WONT_DO:
                values[f"action_items.{item_id}.reason"] = reason
        return set_fields(current, values)

    return change


def set_status_in_bulk(
    session: Session,
    *,
    items: Sequence[ItemRef],
    status: str,
    reason: str = "",
    actor: Actor | None,
    author: str,
    now: dt.datetime | None = None,
) -> list[StoredPostmortem]:
    """Give every listed item `status`, with one revision per postmortem touched, through
    update_postmortem (so history, merging, conflicts and the publication lock apply). All or
    nothing: the first problem (an unknown item, a conflict, a locked field) is raised and the
    caller's transaction rolls back every change."""
    known = [s.value for s in ActionStatus]
    if status not in known:
        raise InvalidInputError(f"status: {status!r} is not one of {', '.join(known)}")
    if not items:
        raise InvalidInputError("items: choose at least one action item")
    if len(items) > MAX_BULK:
        raise InvalidInputError(f"items: at most {MAX_BULK} at a time (got {len(items)})")
    target = ActionStatus(status)
    reason = " ".join(reason.split())
    if target is ActionStatus.WONT_DO and not reason:
        raise InvalidInputError("reason: marking items won't do needs a reason")
    grouped: dict[str, list[ItemRef]] = {}
    for ref in items:
        grouped.setdefault(ref.key, []).append(ref)
    now = now or utc_now()
    results = []
    for key, refs in grouped.items():
        versions = {ref.version for ref in refs if ref.version is not None}
        if len(versions) > 1:
            raise InvalidInputError(f"{key}: items of one incident name different versions")
        ids = list(dict.fromkeys(ref.item_id for ref in refs))
        results.append(
            update_postmortem(
                session,
                key=key,
                change=_set_status(ids, target, reason, key),
                author=author,
                actor=actor,
                expected_version=versions.pop() if versions else None,
                now=now,
                note=f"bulk status change to {target.value}",
            )
        )
    return results


def item_of(stored: StoredPostmortem, item_id: str) -> ActionItem | None:
    """The action item with this id in a stored postmortem."""
    return next((item for item in stored.postmortem.action_items if item.id == item_id), None)
