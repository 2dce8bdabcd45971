"""Gather the facts the insights need (analysis/insights.py computes the numbers).

Every query starts from the incidents `actor` may see (services/incidents.visible_to), so a
restricted incident counts only for those who may see it; archived incidents are left out as
they are from the list. Only the columns the numbers need are read: key moments through their
partial index, the first publication from the revisions, factor categories from the analysis.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session

from hindsight.analysis.insights import IncidentFacts, Insights, ItemFacts, compute_insights
from hindsight.analysis.insights import month_of as month_of
from hindsight.analysis.metrics import METRIC_MOMENTS
from hindsight.domain.access import Actor
from hindsight.domain.incidents import Severity
from hindsight.domain.reviews import ReviewAction
from hindsight.domain.timeline import KeyMoment
from hindsight.errors import InvalidInputError
from hindsight.services.action_items import TEAM_OF_OWNER
from hindsight.services.incidents import utc_now, visible_to
from hindsight.storage.durations import seconds_between
from hindsight.storage.models import (
    ActionItemRow,
    IncidentRow,
    ParticipantRow,
    RevisionRow,
    ServiceRow,
    TimelineEventRow,
)


@dataclass(frozen=True)
class InsightFilter:
    """Incidents created from `start` to `end` (both included), of a service, with a
    participant of a team, of some severities; empty values do not filter."""

    start: dt.date | None = None
    end: dt.date | None = None
    service: str | None = None
    team: str | None = None
    severities: Sequence[str] = ()


def _incidents(filters: InsightFilter, actor: Actor | None) -> Select[tuple[int]]:
    query = select(IncidentRow.id)
    if filters.start:
        query = query.where(
            IncidentRow.created_at >= dt.datetime.combine(filters.start, dt.time(), dt.UTC)
        )
    if filters.end:
        end = dt.datetime.combine(filters.end + dt.timedelta(days=1), dt.time(), dt.UTC)
        query = query.where(IncidentRow.created_at < end)
    if filters.service:
        services = select(ServiceRow.incident_id).where(ServiceRow.name == filters.service)
        query = query.where(IncidentRow.id.in_(services))
    if filters.team:
        teams = select(ParticipantRow.incident_id).where(ParticipantRow.team == filters.team)
        query = query.where(IncidentRow.id.in_(teams))
    if filters.severities:
        query = query.where(IncidentRow.severity.in_(filters.severities))
    return visible_to(query, actor)


def _check(filters: InsightFilter) -> None:
    known = [s.value for s in Severity]
    for value in filters.severities:
        if value not in known:
            raise InvalidInputError(f"severity: {value!r} is not one of {', '.join(known)}")
    if filters.start and filters.end and filters.start > filters.end:
        raise InvalidInputError(
            f"from: {filters.start} is after to: {filters.end}; swap them or widen the range"
        )


def _durations(session: Session, ids: Select[tuple[int]]) -> dict[int, dict[str, Any]]:
    """Each incident's response metrics (analysis/metrics.py's pairs of key moments), computed
    by the database from the marked moments: one row of numbers per incident."""
    at = {
        moment: func.max(case((TimelineEventRow.key_moment == moment.value, TimelineEventRow.at)))
        for moment in KeyMoment
    }
    query = (
        select(
            TimelineEventRow.incident_id,
            *(
                seconds_between(at[start], at[end]).label(name)
                for name, (start, end) in METRIC_MOMENTS.items()
            ),
        )
        .where(TimelineEventRow.key_moment.is_not(None))
        .where(TimelineEventRow.incident_id.in_(ids))
        .group_by(TimelineEventRow.incident_id)
    )
    found: dict[int, dict[str, Any]] = {}
    for row in session.execute(query):
        values = row._asdict()
        incident_id = values.pop("incident_id")
        # Rounded to the millisecond: SQLite's julianday arithmetic is a floating-point day.
        found[incident_id] = {
            name: None if seconds is None else dt.timedelta(seconds=round(float(seconds), 3))
            for name, seconds in values.items()
        }
    return found


def gather_insights(
    session: Session,
    *,
    filters: InsightFilter | None = None,
    actor: Actor | None = None,
    today: dt.date | None = None,
) -> Insights:
    """The dashboard's numbers over the incidents `actor` may see that match `filters`, and
    their action items."""
    filters = filters or InsightFilter()
    _check(filters)
    today = today or utc_now().date()
    ids = _incidents(filters, actor)
    durations = _durations(session, ids)
    first_publication = (
        select(RevisionRow.incident_id, func.min(RevisionRow.at))
        .where(RevisionRow.action == ReviewAction.PUBLISH.value)
        .where(RevisionRow.incident_id.in_(ids))
        .group_by(RevisionRow.incident_id)
    )
    published = {incident_id: at for incident_id, at in session.execute(first_publication)}
    incidents = []
    rows = session.execute(
        select(
            IncidentRow.id, IncidentRow.created_at, IncidentRow.severity, IncidentRow.analysis
        ).where(IncidentRow.id.in_(ids))
    )
    for incident_id, created_at, severity, analysis in rows:
        factors = analysis.get("contributing_factors", []) if isinstance(analysis, dict) else []
        incidents.append(
            IncidentFacts(
                created_at=created_at,
                severity=severity,
                durations=durations.get(incident_id, {}),
                factor_categories=tuple(str(f.get("category", "")) for f in factors),
                published_at=published.get(incident_id),
            )
        )
    items = [
        ItemFacts(
            opened_at=row.opened_at or row.created_at,
            closed_at=row.closed_at,
            kind=row.kind,
            priority=row.priority,
            due=row.due,
            team=row.team or "",
        )
        for row in session.execute(
            select(
                ActionItemRow.opened_at,
                ActionItemRow.closed_at,
                ActionItemRow.kind,
                ActionItemRow.priority,
                ActionItemRow.due,
                TEAM_OF_OWNER.label("team"),
                IncidentRow.created_at,
            )
            .join(IncidentRow, IncidentRow.id == ActionItemRow.incident_id)
            .where(ActionItemRow.incident_id.in_(ids))
        )
    ]
    return compute_insights(
        incidents,
        items,
        today=today,
        first_month=month_of(filters.start) if filters.start else None,
        last_month=month_of(filters.end) if filters.end else None,
    )


def insights_as_dict(insights: Insights) -> dict[str, Any]:
    """The numbers as plain JSON values (response times in minutes, close times in days)."""
    data = dataclasses.asdict(insights)
    data["publication"]["share"] = insights.publication.share
    data["top_factors"] = [{"category": c, "incidents": n} for c, n in insights.top_factors]
    data["distributions"] = {
        name: [{"bucket": label, "incidents": n} for label, n in buckets]
        for name, buckets in insights.distributions.items()
    }
    data["recurrence"] = None  # no recurrence links are recorded yet (docs/web.md)
    return data
