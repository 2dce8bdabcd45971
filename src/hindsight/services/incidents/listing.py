"""The incident list: its filters, sort orders and pages, with the total that matched."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, load_only, selectinload

from hindsight.domain.access import Actor
from hindsight.domain.incidents import IncidentStatus, ReviewStatus, Severity
from hindsight.errors import HindsightError, InvalidInputError
from hindsight.services.incidents.stored import visible_to
from hindsight.storage.models import IncidentRow, ServiceRow, TagRow
from hindsight.storage.visibility import count_statement, count_visible, linked_to_visible


@dataclass(frozen=True)
class IncidentSummary:
    """One line of the incident list."""

    key: str
    title: str
    severity: str
    status: str
    review_status: str
    visibility: str
    services: tuple[str, ...]
    tags: tuple[str, ...]
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int


@dataclass(frozen=True)
class IncidentPage:
    """A page of the incident list and the total number that matched."""

    items: list[IncidentSummary]
    total: int
    limit: int
    offset: int


@dataclass(frozen=True)
class IncidentFilter:
    """What the incident list is narrowed to; empty values do not filter."""

    severities: Sequence[str] = ()
    statuses: Sequence[str] = ()
    review_statuses: Sequence[str] = ()
    service: str | None = None
    tag: str | None = None
    text: str | None = None
    created_from: dt.date | None = None
    created_to: dt.date | None = None
    archived: bool = False  # True: the archived incidents instead of the live ones
    # True: only incidents linked as a recurrence (services/recurrence) to one the reader sees
    recurring: bool = False


_SUMMARY_COLUMNS = (
    IncidentRow.key,
    IncidentRow.title,
    IncidentRow.severity,
    IncidentRow.status,
    IncidentRow.review_status,
    IncidentRow.visibility,
    IncidentRow.created_at,
    IncidentRow.updated_at,
    IncidentRow.version,
)


def _count_visible(
    session: Session, filters: IncidentFilter, actor: Actor | None, archived: bool
) -> int:
    """How many incidents match and are visible (storage/visibility.py's cheap count); the few
    archived ones are counted directly."""
    count = _filtered(count_statement(), filters, actor)
    if archived:
        return session.scalar(visible_to(count, actor, archived=True)) or 0
    return count_visible(session, count.where(IncidentRow.archived_at.is_(None)), actor)


def _filtered(query: Select[Any], filters: IncidentFilter, actor: Actor | None) -> Select[Any]:
    if filters.severities:
        query = query.where(IncidentRow.severity.in_(filters.severities))
    if filters.statuses:
        query = query.where(IncidentRow.status.in_(filters.statuses))
    if filters.review_statuses:
        query = query.where(IncidentRow.review_status.in_(filters.review_statuses))
    if filters.service:
        services = select(ServiceRow.incident_id).where(ServiceRow.name == filters.service)
        query = query.where(IncidentRow.id.in_(services))
    if filters.tag:
        tags = select(TagRow.incident_id).where(TagRow.name == filters.tag)
        query = query.where(IncidentRow.id.in_(tags))
    if filters.text:
        # autoescape: '%' and '_' in the search text are letters, not LIKE wildcards.
        text = filters.text.lower()
        query = query.where(func.lower(IncidentRow.title).contains(text, autoescape=True))
    if filters.recurring:
        query = query.where(IncidentRow.id.in_(linked_to_visible(actor)))
    if filters.created_from:
        start = dt.datetime.combine(filters.created_from, dt.time(), dt.UTC)
        query = query.where(IncidentRow.created_at >= start)
    if filters.created_to:
        end = dt.datetime.combine(filters.created_to + dt.timedelta(days=1), dt.time(), dt.UTC)
        query = query.where(IncidentRow.created_at < end)
    return query


def _check_filter_values(filters: IncidentFilter) -> None:
    """Unknown severities or statuses are a mistake worth saying, not an empty list."""
    allowed = (
        ("severity", filters.severities, Severity),
        ("status", filters.statuses, IncidentStatus),
        ("review", filters.review_statuses, ReviewStatus),
    )
    for name, values, enum in allowed:
        known = [member.value for member in enum]
        for value in values:
            if value not in known:
                raise InvalidInputError(f"{name}: {value!r} is not one of {', '.join(known)}")


SORTS = {
    "newest": (IncidentRow.created_at.desc(), IncidentRow.id.desc()),
    "oldest": (IncidentRow.created_at.asc(), IncidentRow.id.asc()),
    "updated": (IncidentRow.updated_at.desc(), IncidentRow.id.desc()),
    "severity": (IncidentRow.severity.asc(), IncidentRow.created_at.desc(), IncidentRow.id.desc()),
    "title": (IncidentRow.title.asc(), IncidentRow.id.asc()),
}


def list_postmortems(
    session: Session,
    *,
    filters: IncidentFilter | None = None,
    limit: int = 50,
    offset: int = 0,
    actor: Actor | None = None,
    sort: str = "newest",
) -> IncidentPage:
    """A page of incidents `actor` may see, in `sort` order (see SORTS), with the total."""
    filters = filters or IncidentFilter()
    _check_filter_values(filters)
    if sort not in SORTS:
        raise HindsightError(f"sort: '{sort}' is not one of {', '.join(SORTS)}")
    total = _count_visible(session, filters, actor, filters.archived)
    rows = session.scalars(
        visible_to(_filtered(select(IncidentRow), filters, actor), actor, archived=filters.archived)
        .options(
            load_only(*_SUMMARY_COLUMNS),  # the list never reads prose or JSON parts
            selectinload(IncidentRow.services),
            selectinload(IncidentRow.tags),
        )
        .order_by(*SORTS[sort])
        .limit(limit)
        .offset(offset)
    ).all()
    items = [
        IncidentSummary(
            key=row.key,
            title=row.title,
            severity=row.severity,
            status=row.status,
            review_status=row.review_status,
            visibility=row.visibility,
            services=tuple(s.name for s in row.services),
            tags=tuple(t.name for t in row.tags),
            created_at=row.created_at,
            updated_at=row.updated_at,
            version=row.version,
        )
        for row in rows
    ]
    return IncidentPage(items=items, total=total, limit=limit, offset=offset)
