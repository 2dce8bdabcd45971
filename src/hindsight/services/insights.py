"""Gather the facts the insights need (analysis/insights.py computes the numbers).

The numbers come from the insights' rollups and facts (storage/insight_rows.py, kept in step
at write time by storage/insight_facts.py), never the incidents, their timelines, revisions
or analysis JSON:
- the whole months of the range, for the incidents no reader is kept from, from the monthly
  rollups of the one scope asked for (every incident, a service or a team;
  storage/insight_rollups.py): a few thousand counts however many incidents there are;
- the rest from the facts (one narrow row per incident, per contributing-factor category
  and per action item, read through covering indexes in filter order): the restricted
  incidents the reader may see (membership is checked for those few only), the
  unrestricted ones of a month the range cuts in two, and everything when a service and a
  team are both asked for (no rollup has the pair).
Which part answers for what is services/insight_plan.py's `plan`. Both add into the same
tallies, with the same histograms, so a number does not depend on which answered. Archived
incidents are left out as they are from the list.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from collections.abc import Callable
from typing import Any

from sqlalchemy import Select, case, false, func, literal, select
from sqlalchemy.orm import Session, aliased

from hindsight.analysis.insights import (
    NO_TEAM,
    Insights,
    Tallies,
    TeamItems,
    insights_from,
)
from hindsight.analysis.insights import month_of as month_of
from hindsight.domain.access import Actor
from hindsight.domain.histograms import SERIOUS, Histogram
from hindsight.services.incidents import utc_now
from hindsight.services.insight_plan import (
    InsightFilter as InsightFilter,
)
from hindsight.services.insight_plan import (
    Months,
    Part,
    check_filter,
    every_incident_part,
    month_start,
    plan,
)
from hindsight.storage.insight_rollups import (
    ANY_SEVERITY,
    MEASURES,
)
from hindsight.storage.insight_rows import (
    METRIC_COLUMNS,
    InsightFactorRow,
    InsightIncidentRow,
    InsightItemRow,
    InsightRollupRow,
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


def _narrow(
    query: Select[*tuple[Any, ...]],
    table: type[InsightIncidentRow | InsightFactorRow | InsightItemRow],
    filters: InsightFilter,
    actor: Actor | None,
    part: Part,
) -> Select[*tuple[Any, ...]]:
    """`query` of a facts table narrowed to the chosen incidents of `part` `actor` may see."""
    # The values of `restricted` spelled out, so that the index is searched on the range of
    # `created_at` after it (a probe each) instead of scanned; the membership check then
    # applies to the few restricted rows only.
    query = query.where(table.archived == false(), table.restricted.in_(part.restricted))
    if True in part.restricted and not sees_everything(actor):
        assert actor is not None
        query = query.where((table.restricted == false()) | table.incident_id.in_(member_of(actor)))
    if part.start:
        query = query.where(table.created_at >= part.start)
    if part.end:
        query = query.where(table.created_at < part.end)
    # Service and team as correlated EXISTS: a probe per fact row the part holds (the facts
    # answer for few rows when the rollups answer for the rest), not a list of every
    # incident of the service or team built for each query.
    if filters.service:
        query = query.where(
            select(ServiceRow.id)
            .where(ServiceRow.incident_id == table.incident_id, ServiceRow.name == filters.service)
            .exists()
        )
    if filters.team:
        query = query.where(
            select(ParticipantRow.id)
            .where(
                ParticipantRow.incident_id == table.incident_id,
                ParticipantRow.team == filters.team,
            )
            .exists()
        )
    if filters.severities:
        query = query.where(table.severity.in_(filters.severities))
    return query


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
    session: Session, tallies: Tallies, filters: InsightFilter, actor: Actor | None, part: Part
) -> None:
    """Incidents per month and severity, their response times, the serious ones and their
    seconds to publish: one pass over the part's incidents' facts (a covering index); then
    the factor categories."""
    metrics = [getattr(Facts, column) for column in METRIC_COLUMNS.values()]
    query = select(Facts.month, Facts.severity, Facts.publish_s, *metrics)
    names = list(enumerate(METRIC_COLUMNS, start=3))
    for row in _rows(session, _narrow(query, Facts, filters, actor, part)):
        month, severity, publish_s = row[0], row[1], row[2]
        tallies.incidents[(month, severity)] += 1
        tallies.response.setdefault(month, {})
        for index, name in names:
            if row[index] is not None:
                tallies.add_response(month, name, row[index])
        if severity in SERIOUS:
            tallies.serious += 1
            if publish_s is not None:
                tallies.publish.add(max(0.0, publish_s))
    factors = _narrow(select(InsightFactorRow.category), InsightFactorRow, filters, actor, part)
    for (category,), count in _grouped(session, factors, InsightFactorRow.category).items():
        tallies.factors[category] += count


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
    every = every_incident_part(filters)
    tallies.recurrences.update(_counts(session, _narrow(query, Facts, filters, actor, every)))


def _add_team(tallies: Tallies, team: str, open_: int = 0, closed: int = 0, late: int = 0) -> None:
    """Add to a team's open, closed and overdue items."""
    name = team or NO_TEAM
    found = tallies.teams.get(name, TeamItems())
    tallies.teams[name] = TeamItems(found.open + open_, found.closed + closed, found.overdue + late)


def _tally_items(
    session: Session,
    tallies: Tallies,
    filters: InsightFilter,
    actor: Actor | None,
    part: Part,
    today: dt.date,
) -> None:
    """The part's incidents' items opened, closed and overdue per month, per team now, and
    the close times by kind and priority: one grouped pass over the items' facts for the
    counts, one read of the close times."""
    items = _narrow(select(Items.incident_id), Items, filters, actor, part)
    # Overdue in the month of the due date: open items past it (only open items keep a due
    # date), and items closed after it (their late month).
    overdue = case((Items.due < today, month_of_date(Items.due)), else_=None)
    keys = (Items.opened_month, Items.closed_month, Items.team, overdue, Items.late_month)
    grouped = _grouped(session, items, *keys)
    for (opened, closed_in, team, overdue_in, late_in), count in grouped.items():
        tallies.opened[opened] += count
        if closed_in:
            tallies.closed[closed_in] += count
            _add_team(tallies, team, closed=count)
        else:
            _add_team(tallies, team, open_=count, late=count if overdue_in else 0)
        for month in (overdue_in, late_in):
            if month:
                tallies.overdue[month] += count
    times = select(Items.kind, Items.priority, Items.close_s).where(Items.close_s.is_not(None))
    for kind, priority, seconds in _rows(session, _narrow(times, Items, filters, actor, part)):
        tallies.add_close(kind, priority, max(0.0, seconds))


# Rollup measures counted by key, and histograms by key (or by name, for r:METRIC).
_COUNTERS: dict[str, Callable[[Tallies], Counter[str]]] = {
    "factor": lambda t: t.factors,
    "opened": lambda t: t.opened,
    "closed": lambda t: t.closed,
    "late": lambda t: t.overdue,
}
_HISTOGRAMS: dict[str, Callable[[Tallies, str], dict[str, Histogram]]] = {
    "r": lambda t, month: t.response.setdefault(month, {}),
    "close_kind": lambda t, _: t.close_by_kind,
    "close_priority": lambda t, _: t.close_by_priority,
    "publish": lambda t, _: {"": t.publish},  # one histogram, key ''
}


def _tally_rollup(
    tallies: Tallies,
    kind: str,
    name: str,
    month: str,
    key: str,
    bucket: int,
    n: int,
    this_month: str,
) -> None:
    """Add one rollup row of the other measures (storage/insight_rollups.py's table)."""
    if kind == "incidents":
        tallies.incidents[(month, key)] += n
        tallies.serious += n if key in SERIOUS else 0
    elif kind == "b":
        tallies.bands.setdefault(name, Counter())[bucket] += n
    elif kind == "team_open":
        _add_team(tallies, key, open_=n)
    elif kind == "team_closed":
        _add_team(tallies, key, closed=n)
    elif kind == "due_m":
        due_month, _, team = key.partition("\t")
        if due_month < this_month:  # this month's are counted by day
            tallies.overdue[due_month] += n
            _add_team(tallies, team, late=n)


def _tally_rollups(
    session: Session,
    tallies: Tallies,
    months: Months,
    filters: InsightFilter,
    today: dt.date,
) -> None:
    """Add the rollups' counts of the whole months (storage/insight_rollups.py's table)."""
    table = InsightRollupRow
    where = [
        table.scope == months.scope,
        table.restricted.in_(months.restricted),
        table.severity.in_(list(filters.severities) or [ANY_SEVERITY]),
        table.n != 0,
    ]
    if months.first:
        where.append(table.month >= months.first)
    if months.last:
        where.append(table.month <= months.last)
    this_month = month_of(today)
    # Incidents and response times per month as stored; the other measures (keyed by their
    # own month, team, kind...) summed over the months by the database.
    per_month = [m for m in MEASURES if m == "incidents" or m.startswith("r:")]
    stored = select(
        table.measure, table.month, table.key, table.bucket, table.n, table.total
    ).where(*where, table.measure.in_(per_month))
    summed = (
        select(
            table.measure,
            literal(""),
            table.key,
            table.bucket,
            func.sum(table.n),
            func.sum(table.total),
        )
        .where(*where, table.measure.in_([m for m in MEASURES if m not in per_month]))
        .group_by(table.measure, table.key, table.bucket)
        .having(func.sum(table.n) != 0)
    )
    for measure, month, key, bucket, n, total in [
        *_rows(session, stored),
        *_rows(session, summed),
    ]:
        kind, _, name = measure.partition(":")
        if kind in _COUNTERS:
            _COUNTERS[kind](tallies)[key] += n
        elif kind in _HISTOGRAMS:
            histograms = _HISTOGRAMS[kind](tallies, month)
            histograms.setdefault(name or key, Histogram()).add_bucket(bucket, n, total)
        else:
            _tally_rollup(tallies, kind, name, month, key, bucket, n, this_month)
    # Open items due earlier this month are overdue since their day: from the items' facts
    # (an index on the due date), as the rollups count by month.
    start, end = month_start(months.first), month_start(months.last, after=True)
    part = Part(months.restricted, start, end)
    due = select(Items.team, func.count()).where(
        Items.due >= today.replace(day=1), Items.due < today
    )
    for team, n in _rows(session, _narrow(due, Items, filters, None, part).group_by(Items.team)):
        tallies.overdue[this_month] += n
        _add_team(tallies, team, late=n)


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
    check_filter(filters)
    today = today or utc_now().date()
    plan_without_jit(session)
    tallies = Tallies()
    months, parts = plan(filters, actor)
    if months is not None:
        _tally_rollups(session, tallies, months, filters, today)
    for part in parts:
        _tally_incidents(session, tallies, filters, actor, part)
        _tally_items(session, tallies, filters, actor, part, today)
    _tally_recurrences(session, tallies, filters, actor)
    tallies.item_count = sum(tallies.opened.values())
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
