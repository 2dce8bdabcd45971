"""What the insights read for a filter: which whole months the monthly rollups answer for,
and which slices of the facts answer for the rest (services/insights.py reads them).

The rollups (storage/insight_rollups.py) count whole months of one scope — every incident,
a service or a team — and hold restricted incidents apart, so only those who see every
incident read them. The facts answer for the restricted incidents others may see by
membership, the days of a month the range cuts in two, and everything when a service and a
team are both asked for (no rollup has the pair).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from hindsight.analysis.insights import month_of
from hindsight.domain.access import Actor
from hindsight.domain.incidents import Severity
from hindsight.errors import InvalidInputError
from hindsight.storage.insight_rollups import EVERY_INCIDENT, service_scope, team_scope
from hindsight.storage.visibility import sees_everything


@dataclass(frozen=True)
class InsightFilter:
    """Incidents created from `start` to `end` (both included), of a service, with a
    participant of a team, of some severities; empty values do not filter."""

    start: dt.date | None = None
    end: dt.date | None = None
    service: str | None = None
    team: str | None = None
    severities: Sequence[str] = ()


@dataclass(frozen=True)
class Part:
    """A slice of the facts to read: incidents with these values of `restricted`, created
    from `start` (included) to `end` (excluded); None does not bound."""

    restricted: tuple[bool, ...]
    start: dt.datetime | None
    end: dt.datetime | None


@dataclass(frozen=True)
class Months:
    """The whole months the rollups answer for: from `first` to `last` (None: unbounded), of
    one scope, for incidents with these values of `restricted`."""

    scope: str
    first: str | None
    last: str | None
    restricted: tuple[bool, ...] = (False,)


def _first_of(month: dt.date) -> dt.datetime:
    return dt.datetime(month.year, month.month, 1, tzinfo=dt.UTC)


def _next_month(moment: dt.datetime) -> dt.datetime:
    year, month = divmod(moment.year * 12 + moment.month, 12)
    return dt.datetime(year, month + 1, 1, tzinfo=dt.UTC)


def every_incident_part(filters: InsightFilter) -> Part:
    """Every incident of the filter's range, restricted or not."""
    low = dt.datetime.combine(filters.start, dt.time(), dt.UTC) if filters.start else None
    high = (
        dt.datetime.combine(filters.end + dt.timedelta(days=1), dt.time(), dt.UTC)
        if filters.end
        else None
    )
    return Part((False, True), low, high)


def plan(filters: InsightFilter, actor: Actor | None) -> tuple[Months | None, list[Part]]:
    """Which whole months the rollups answer for (in one scope; restricted incidents too for
    those who see every incident), and which slices the facts answer for: the restricted
    incidents others may see (by membership), the days of a month the range cuts, everything
    when no scope fits."""
    everything = [every_incident_part(filters)]
    low, high = everything[0].start, everything[0].end
    if filters.service and filters.team:
        return None, everything
    scope = (
        service_scope(filters.service)
        if filters.service
        else team_scope(filters.team)
        if filters.team
        else EVERY_INCIDENT
    )
    # Whole months: from the first month starting at or after `low` to the last one ending
    # at or before `high`.
    whole_low = None if low is None else low if low.day == 1 else _next_month(low)
    whole_high = None if high is None else _first_of(high.date())
    if whole_low is not None and whole_high is not None and whole_low >= whole_high:
        return None, everything
    every = sees_everything(actor)
    restricted = (False, True) if every else (False,)
    parts = [] if every else [Part((True,), low, high)]
    if low is not None and whole_low is not None and low < whole_low:
        parts.append(Part(restricted, low, whole_low))
    if high is not None and whole_high is not None and whole_high < high:
        parts.append(Part(restricted, whole_high, high))
    last = None
    if whole_high is not None:
        last = month_of(whole_high - dt.timedelta(days=1))
    first = month_of(whole_low) if whole_low else None
    return Months(scope, first, last, restricted), parts


def check_filter(filters: InsightFilter) -> None:
    known = [s.value for s in Severity]
    for value in filters.severities:
        if value not in known:
            raise InvalidInputError(f"severity: {value!r} is not one of {', '.join(known)}")
    if filters.start and filters.end and filters.start > filters.end:
        raise InvalidInputError(
            f"from: {filters.start} is after to: {filters.end}; swap them or widen the range"
        )


def month_start(month: str | None, *, after: bool = False) -> dt.datetime | None:
    """The first moment of a 'YYYY-MM' month (`after`: of the month after it)."""
    if month is None:
        return None
    start = dt.datetime(int(month[:4]), int(month[5:]), 1, tzinfo=dt.UTC)
    return _next_month(start) if after else start
