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
from typing import Any, cast

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from hindsight.analysis.insights import IncidentFacts, Insights, ItemFacts, compute_insights
from hindsight.analysis.insights import month_of as month_of
from hindsight.analysis.metrics import Moments, metrics_from_moments
from hindsight.domain.access import Actor
from hindsight.domain.incidents import Severity
from hindsight.domain.reviews import ReviewAction
from hindsight.domain.timeline import KeyMoment
from hindsight.errors import InvalidInputError
from hindsight.services.action_items import TEAM_OF_OWNER
from hindsight.services.incidents import utc_now, visible_to
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


def _moments(session: Session, ids: Select[tuple[int]]) -> dict[int, Moments]:
    found: dict[int, dict[KeyMoment, dt.datetime]] = {}
    rows = session.execute(
        select(TimelineEventRow.incident_id, TimelineEventRow.key_moment, TimelineEventRow.at)
        .where(TimelineEventRow.key_moment.is_not(None))
        .where(TimelineEventRow.incident_id.in_(ids))
    )
    for incident_id, moment, at in rows:
        found.setdefault(incident_id, {})[KeyMoment(str(moment))] = at
    return {incident_id: _as_events(moments) for incident_id, moments in found.items()}


class _At:
    """The one attribute analysis/metrics.py reads of a marked event."""

    __slots__ = ("at",)

    def __init__(self, at: dt.datetime) -> None:
        self.at = at


def _as_events(moments: dict[KeyMoment, dt.datetime]) -> Moments:
    return cast(Moments, {moment: _At(at) for moment, at in moments.items()})


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
    moments = _moments(session, ids)
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
        metrics = metrics_from_moments(moments.get(incident_id, {}))
        factors = analysis.get("contributing_factors", []) if isinstance(analysis, dict) else []
        incidents.append(
            IncidentFacts(
                created_at=created_at,
                severity=severity,
                durations={
                    "time_to_detect": metrics.time_to_detect,
                    "time_to_acknowledge": metrics.time_to_acknowledge,
                    "time_to_mitigate": metrics.time_to_mitigate,
                    "time_to_resolve": metrics.time_to_resolve,
                },
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
