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

from sqlalchemy import Select, and_, case, func, or_, select, true
from sqlalchemy.orm import Session

from hindsight.analysis.insights import (
    NO_TEAM,
    SERIOUS,
    Insights,
    Tallies,
    TeamItems,
    insights_from,
)
from hindsight.analysis.insights import month_of as month_of
from hindsight.analysis.metrics import METRIC_MOMENTS
from hindsight.domain.access import Actor
from hindsight.domain.incidents import Severity
from hindsight.domain.reviews import ReviewAction
from hindsight.domain.timeline import KeyMoment
from hindsight.errors import InvalidInputError
from hindsight.services.incidents import utc_now, visible_to
from hindsight.storage.durations import seconds_between
from hindsight.storage.models import (
    ActionItemRow,
    IncidentLinkRow,
    IncidentRow,
    ParticipantRow,
    RevisionRow,
    ServiceRow,
    TimelineEventRow,
)
from hindsight.storage.periods import (
    json_array_items,
    month_of_date,
    month_of_time,
    plan_without_jit,
    utc_date,
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


def _minutes(seconds: Any) -> float | None:
    """Seconds from the database as analysis/metrics.py's minutes, rounded to the millisecond
    (SQLite's julianday arithmetic is a floating-point day); negative ones are left out.
    round(x, 3) is the float a timedelta of x seconds gives back, without making one."""
    if seconds is None:
        return None
    rounded = round(float(seconds), 3)
    return None if rounded < 0 else rounded / 60


def _days(seconds: Any) -> float:
    return round(float(seconds), 3) / 3600 / 24


def _counts(session: Session, query: Select[*tuple[Any, ...]]) -> dict[str, int]:
    """A (name, count) query's rows as a dict."""
    return {str(name): int(count) for name, count in session.execute(query)}


def _per_month(session: Session, query: Select[Any], month: Any) -> dict[str, int]:
    """How many rows of `query` fall in each month (`month` an expression of the row)."""
    return _counts(session, query.with_only_columns(month, func.count()).group_by(month))


def _tally_incidents(
    session: Session, tallies: Tallies, chosen: Select[Any], actor: Actor | None
) -> None:
    """Incidents per month and severity, each one's response times, factor categories,
    recurrences and publication: GROUP BY queries over the chosen incidents."""
    month = month_of_time(IncidentRow.created_at)
    for m, severity, count in session.execute(
        chosen.with_only_columns(month, IncidentRow.severity, func.count()).group_by(
            month, IncidentRow.severity
        )
    ):
        tallies.incidents[(m, severity)] += count
    at = {
        moment: func.max(case((TimelineEventRow.key_moment == moment.value, TimelineEventRow.at)))
        for moment in KeyMoment
    }
    # One row of numbers per incident with key moments: the chosen incidents' ids drive the
    # partial index of marked moments; each group reads its incident's month by primary key.
    created = (
        select(IncidentRow.created_at)
        .where(IncidentRow.id == TimelineEventRow.incident_id)
        .correlate(TimelineEventRow)
        .scalar_subquery()
    )
    durations = (
        select(
            month_of_time(created),
            *(seconds_between(at[start], at[end]) for start, end in METRIC_MOMENTS.values()),
        )
        .where(TimelineEventRow.key_moment.is_not(None))
        .where(TimelineEventRow.incident_id.in_(chosen))
        .group_by(TimelineEventRow.incident_id)
    )
    for m, *seconds in session.execute(durations):
        found = tallies.response.setdefault(m, {})
        for name, value in zip(METRIC_MOMENTS, seconds, strict=True):
            minutes = _minutes(value)
            if minutes is not None:
                found.setdefault(name, []).append(minutes)
    elements, category = json_array_items(
        session, IncidentRow.analysis, "contributing_factors", "category"
    )
    factors = (
        chosen.with_only_columns(category, func.count(func.distinct(IncidentRow.id)))
        .join(elements, true())
        .group_by(category)
    )
    tallies.factors.update(_counts(session, factors))
    _tally_recurrences(session, tallies, chosen, actor)
    _tally_publication(session, tallies, chosen)


def _tally_recurrences(
    session: Session, tallies: Tallies, chosen: Select[Any], actor: Actor | None
) -> None:
    """Incidents linked as a recurrence of an earlier incident the reader may see (archived
    or not), per month."""
    month = month_of_time(IncidentRow.created_at)
    # Not correlated: the earlier incident is another row of `incidents`.
    earlier = visible_to(select(IncidentRow.id), actor, archived=None).correlate(None)
    recurring = select(IncidentLinkRow.incident_id).where(
        IncidentLinkRow.earlier.is_(True), IncidentLinkRow.other_id.in_(earlier)
    )
    query = (
        chosen.with_only_columns(month, func.count())
        .where(IncidentRow.id.in_(recurring))
        .group_by(month)
    )
    tallies.recurrences.update(_counts(session, query))


def _tally_publication(session: Session, tallies: Tallies, chosen: Select[Any]) -> None:
    """SEV1-SEV2 incidents, and the days from creation to the first publication of those
    published."""
    serious = chosen.where(IncidentRow.severity.in_(SERIOUS))
    tallies.serious = int(session.scalar(serious.with_only_columns(func.count())) or 0)
    first = (
        serious.with_only_columns(
            seconds_between(func.min(IncidentRow.created_at), func.min(RevisionRow.at))
        )
        .join(RevisionRow, RevisionRow.incident_id == IncidentRow.id)
        .where(RevisionRow.action == ReviewAction.PUBLISH.value)
        .group_by(IncidentRow.id)
    )
    tallies.publish_days = [_days(seconds) for seconds in session.scalars(first)]


def _tally_items(session: Session, tallies: Tallies, chosen: Select[Any], today: dt.date) -> None:
    """The chosen incidents' items opened, closed and overdue per month, per team now, and
    the close times by kind and priority."""
    opened_at = func.coalesce(ActionItemRow.opened_at, IncidentRow.created_at)
    items = chosen.join(ActionItemRow, ActionItemRow.incident_id == IncidentRow.id)
    late = or_(
        and_(ActionItemRow.closed_at.is_(None), ActionItemRow.due < today),
        and_(
            ActionItemRow.closed_at.is_not(None),
            utc_date(ActionItemRow.closed_at) > ActionItemRow.due,
        ),
    )
    overdue_month = case(
        (and_(ActionItemRow.due.is_not(None), late), month_of_date(ActionItemRow.due))
    )
    keys = (month_of_time(opened_at), month_of_time(ActionItemRow.closed_at), overdue_month)
    # One pass over the items (a covering index, models/incidents.py): a few thousand groups.
    groups = items.with_only_columns(*keys, ActionItemRow.team, func.count()).group_by(
        *keys, ActionItemRow.team
    )
    teams: dict[str, list[int]] = {}
    for opened, closed_in, overdue_in, team, count in session.execute(groups):
        tallies.opened[opened] += count
        counts = teams.setdefault(team or NO_TEAM, [0, 0, 0])
        if closed_in:
            tallies.closed[closed_in] += count
            counts[1] += count
        else:
            counts[0] += count
            # An open item is overdue (in its due month) exactly when its due date has passed.
            counts[2] += count if overdue_in else 0
        if overdue_in:
            tallies.overdue[overdue_in] += count
    tallies.teams = {team: TeamItems(*counts) for team, counts in teams.items()}
    tallies.item_count = sum(tallies.opened.values())
    closed = items.where(ActionItemRow.closed_at.is_not(None))
    times = closed.with_only_columns(
        ActionItemRow.kind,
        ActionItemRow.priority,
        seconds_between(opened_at, ActionItemRow.closed_at),
    )
    for kind, priority, seconds in session.execute(times):
        days = _days(seconds)
        tallies.close_by_kind.setdefault(kind, []).append(days)
        tallies.close_by_priority.setdefault(priority, []).append(days)


def gather_insights(
    session: Session,
    *,
    filters: InsightFilter | None = None,
    actor: Actor | None = None,
    today: dt.date | None = None,
) -> Insights:
    """The dashboard's numbers over the incidents `actor` may see that match `filters`, and
    their action items: counts by GROUP BY, only the durations read as numbers."""
    filters = filters or InsightFilter()
    _check(filters)
    today = today or utc_now().date()
    chosen = _incidents(filters, actor)
    plan_without_jit(session)
    tallies = Tallies()
    _tally_incidents(session, tallies, chosen, actor)
    _tally_items(session, tallies, chosen, today)
    return insights_from(
        tallies,
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
    data["recurrence"] = {
        "incidents": insights.recurrence.incidents,
        "recurrences": insights.recurrence.recurrences,
        "share": insights.recurrence.share,
    }
    data["recurrence_by_month"] = {
        month: {"incidents": r.incidents, "recurrences": r.recurrences, "share": r.share}
        for month, r in insights.recurrence_by_month.items()
    }
    return data
