"""Gather the facts the insights need (analysis/insights.py computes the numbers).

The numbers come from the insights' facts (storage/insight_rows.py, kept in step at write
time by storage/insight_facts.py): one narrow row per incident with its month, severity,
response times and seconds to publication, one per contributing-factor category, read
through covering indexes in filter order — never the incidents, their timelines, revisions
or analysis JSON. A restricted incident counts only for those who may see it (the facts'
`restricted` copy, and membership for the few restricted ones); archived incidents are left
out as they are from the list. Action items carry their own copies (migration 0019).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, false, func, select
from sqlalchemy.orm import Session, aliased

from hindsight.analysis.insights import (
    NO_TEAM,
    SERIOUS,
    Insights,
    Tallies,
    TeamItems,
    insights_from,
)
from hindsight.analysis.insights import month_of as month_of
from hindsight.domain.access import Actor
from hindsight.domain.incidents import Severity
from hindsight.errors import InvalidInputError
from hindsight.services.incidents import utc_now
from hindsight.storage.insight_rows import (
    METRIC_COLUMNS,
    InsightFactorRow,
    InsightIncidentRow,
    InsightItemRow,
)
from hindsight.storage.models import (
    IncidentLinkRow,
    IncidentRow,
    ParticipantRow,
    ServiceRow,
)
from hindsight.storage.periods import (
    month_of_date,
    plan_without_jit,
)
from hindsight.storage.visibility import member_of, sees_everything

Facts = InsightIncidentRow
Items = InsightItemRow


@dataclass(frozen=True)
class InsightFilter:
    """Incidents created from `start` to `end` (both included), of a service, with a
    participant of a team, of some severities; empty values do not filter."""

    start: dt.date | None = None
    end: dt.date | None = None
    service: str | None = None
    team: str | None = None
    severities: Sequence[str] = ()


def _narrow(
    query: Select[*tuple[Any, ...]],
    table: type[InsightIncidentRow | InsightFactorRow | InsightItemRow],
    filters: InsightFilter,
    actor: Actor | None,
) -> Select[*tuple[Any, ...]]:
    """`query` of a facts table narrowed to the chosen incidents `actor` may see."""
    # Both values of `restricted` spelled out, so that the index is searched on the range of
    # `created_at` after it (two probes) instead of scanned; the membership check then applies
    # to the few restricted rows only.
    query = query.where(table.archived == false(), table.restricted.in_([False, True]))
    if not sees_everything(actor):
        assert actor is not None
        query = query.where((table.restricted == false()) | table.incident_id.in_(member_of(actor)))
    if filters.start:
        query = query.where(
            table.created_at >= dt.datetime.combine(filters.start, dt.time(), dt.UTC)
        )
    if filters.end:
        end = dt.datetime.combine(filters.end + dt.timedelta(days=1), dt.time(), dt.UTC)
        query = query.where(table.created_at < end)
    if filters.service:
        services = select(ServiceRow.incident_id).where(ServiceRow.name == filters.service)
        query = query.where(table.incident_id.in_(services))
    if filters.team:
        teams = select(ParticipantRow.incident_id).where(ParticipantRow.team == filters.team)
        query = query.where(table.incident_id.in_(teams))
    if filters.severities:
        query = query.where(table.severity.in_(filters.severities))
    return query


def _check(filters: InsightFilter) -> None:
    known = [s.value for s in Severity]
    for value in filters.severities:
        if value not in known:
            raise InvalidInputError(f"severity: {value!r} is not one of {', '.join(known)}")
    if filters.start and filters.end and filters.start > filters.end:
        raise InvalidInputError(
            f"from: {filters.start} is after to: {filters.end}; swap them or widen the range"
        )


def _days(seconds: float) -> float:
    """Seconds (stored rounded to the millisecond, storage/insight_facts.py) as days."""
    return seconds / 3600 / 24


def _rows(session: Session, query: Select[*tuple[Any, ...]]) -> Any:
    """The rows of a query of columns, through the session's connection: plain tuples with no
    ORM loading step (a tenth of the time per row over tens of thousands of rows)."""
    return session.connection().execute(query).all()


def _counts(session: Session, query: Select[*tuple[Any, ...]]) -> dict[str, int]:
    """A (name, count) query's rows as a dict."""
    return {str(name): int(count) for name, count in _rows(session, query)}


def _grouped(
    session: Session, query: Select[*tuple[Any, ...]], *keys: Any
) -> Counter[tuple[Any, ...]]:
    """How many rows of `query` (narrowed already) have each combination of `keys`."""
    grouped = query.with_only_columns(*keys, func.count()).group_by(*keys)
    return Counter({tuple(key): count for *key, count in _rows(session, grouped)})


def _tally_incidents(
    session: Session, tallies: Tallies, filters: InsightFilter, actor: Actor | None
) -> None:
    """Incidents per month and severity, their response times, the serious ones and their
    days to publish: one pass over the chosen incidents' facts (a covering index); then the
    factor categories and recurrences."""
    metrics = [getattr(Facts, column) for column in METRIC_COLUMNS.values()]
    query = select(Facts.month, Facts.severity, Facts.publish_s, *metrics)
    months: dict[str, list[Any]] = defaultdict(list)
    for row in _rows(session, _narrow(query, Facts, filters, actor)):
        months[row[0]].append(row)
    # Column by column over each month's rows (comprehensions, not a call per value).
    for month, rows in months.items():
        tallies.incidents.update(Counter((month, row[1]) for row in rows))
        found = tallies.response.setdefault(month, {})
        for index, name in enumerate(METRIC_COLUMNS, start=3):
            values = [row[index] / 60 for row in rows if row[index] is not None]
            if values:
                found[name] = values
        serious = [row[2] for row in rows if row[1] in SERIOUS]
        tallies.serious += len(serious)
        tallies.publish_days += [_days(seconds) for seconds in serious if seconds is not None]
    factors = _narrow(select(InsightFactorRow.category), InsightFactorRow, filters, actor)
    for (category,), count in _grouped(session, factors, InsightFactorRow.category).items():
        tallies.factors[category] += count
    _tally_recurrences(session, tallies, filters, actor)


def _tally_recurrences(
    session: Session, tallies: Tallies, filters: InsightFilter, actor: Actor | None
) -> None:
    """Incidents linked as a recurrence of an earlier incident the reader may see (archived
    or not), per month: driven by the links (few), each checked against the facts."""
    other = aliased(IncidentRow)
    recurring = (
        select(IncidentLinkRow.incident_id)
        .join(other, other.id == IncidentLinkRow.other_id)
        .where(IncidentLinkRow.earlier.is_(True))
    )
    if not sees_everything(actor):
        assert actor is not None
        # services/incidents.visible_to(archived=None) of the earlier incident.
        mine = other.id.in_(member_of(actor))
        recurring = recurring.where(
            (other.visibility == "internal") | mine, other.archived_at.is_(None) | mine
        )
    query = (
        select(Facts.month, func.count())
        .where(Facts.incident_id.in_(recurring))
        .group_by(Facts.month)
    )
    tallies.recurrences.update(_counts(session, _narrow(query, Facts, filters, actor)))


def _tally_items(
    session: Session, tallies: Tallies, filters: InsightFilter, actor: Actor | None, today: dt.date
) -> None:
    """The chosen incidents' items opened, closed and overdue per month, per team now, and
    the close times by kind and priority: grouped passes over the items' facts."""
    teams: dict[str, list[int]] = {}
    items = _narrow(select(Items.incident_id), Items, filters, actor)
    keys = (Items.opened_month, Items.closed_month, Items.team)
    for (opened, closed_in, team), count in _grouped(session, items, *keys).items():
        tallies.opened[opened] += count
        counts = teams.setdefault(team or NO_TEAM, [0, 0, 0])
        if closed_in:
            tallies.closed[closed_in] += count
            counts[1] += count
        else:
            counts[0] += count
    # Overdue in the month of the due date: open items past it, and those closed after it.
    still_open = items.where(Items.due < today)
    for (month, team), count in _grouped(
        session, still_open, month_of_date(Items.due), Items.team
    ).items():
        tallies.overdue[month] += count
        teams.setdefault(team or NO_TEAM, [0, 0, 0])[2] += count
    late = items.where(Items.late_month.is_not(None))
    for (month,), count in _grouped(session, late, Items.late_month).items():
        tallies.overdue[month] += count
    tallies.teams = {team: TeamItems(*counts) for team, counts in teams.items()}
    tallies.item_count = sum(tallies.opened.values())
    times = select(Items.kind, Items.priority, Items.close_s).where(Items.close_s.is_not(None))
    kinds: dict[str, list[float]] = defaultdict(list)
    priorities: dict[str, list[float]] = defaultdict(list)
    for kind, priority, seconds in _rows(session, _narrow(times, Items, filters, actor)):
        days = seconds / 3600 / 24
        kinds[kind].append(days)
        priorities[priority].append(days)
    tallies.close_by_kind, tallies.close_by_priority = dict(kinds), dict(priorities)


def gather_insights(
    session: Session,
    *,
    filters: InsightFilter | None = None,
    actor: Actor | None = None,
    today: dt.date | None = None,
) -> Insights:
    """The dashboard's numbers over the incidents `actor` may see that match `filters`, and
    their action items, from the insights' facts."""
    filters = filters or InsightFilter()
    _check(filters)
    today = today or utc_now().date()
    plan_without_jit(session)
    tallies = Tallies()
    _tally_incidents(session, tallies, filters, actor)
    _tally_items(session, tallies, filters, actor, today)
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
