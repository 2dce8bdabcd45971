"""The trends a team learns from, computed from plain facts about incidents and action items.

Definitions (docs/web.md "Insights" says the same):
- a month is the UTC calendar month an incident was created in (an item: opened / closed in);
- response times are analysis/metrics.py's, per incident; a negative one (moments kept out of
  order with a reason) is left out, as the postmortem shows it "inconsistent";
- the median is the middle value (the mean of the two middle ones for an even count); p90 is
  the nearest-rank 90th percentile: the smallest value with at least 90 % of values at or
  below it;
- an item is overdue in the month of its due date when it was not closed by the end of that
  day (an item still open counts only once its due date has passed);
- time to close runs from an item's opening to its closing (done or won't do);
- days to publish run from an incident's creation to its first publication.
No IO and no clock: `today` is passed in.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

SEVERITIES = ("SEV1", "SEV2", "SEV3", "SEV4", "SEV5")
METRICS = ("time_to_detect", "time_to_acknowledge", "time_to_mitigate", "time_to_resolve")
METRIC_LABELS = {
    "time_to_detect": "Time to detect",
    "time_to_acknowledge": "Time to acknowledge",
    "time_to_mitigate": "Time to mitigate",
    "time_to_resolve": "Time to resolve",
}
# Distribution buckets: (label, upper bound in minutes, exclusive; None = no bound).
BUCKETS: tuple[tuple[str, float | None], ...] = (
    ("< 5 min", 5),
    ("5-15 min", 15),
    ("15-30 min", 30),
    ("30-60 min", 60),
    ("1-4 h", 240),
    ("4-24 h", 1440),
    ("≥ 1 day", None),
)
TOP_FACTORS = 10
NO_TEAM = "(no team)"
SERIOUS = ("SEV1", "SEV2")


@dataclass(frozen=True)
class IncidentFacts:
    """What the insights need of one incident."""

    created_at: dt.datetime
    severity: str
    durations: dict[str, dt.timedelta | None] = field(default_factory=dict)
    factor_categories: tuple[str, ...] = ()
    published_at: dt.datetime | None = None
    recurs: bool = False  # linked as a recurrence of an earlier incident


@dataclass(frozen=True)
class ItemFacts:
    """What the insights need of one action item."""

    opened_at: dt.datetime
    closed_at: dt.datetime | None
    kind: str
    priority: str
    due: dt.date | None = None
    team: str = ""


@dataclass(frozen=True)
class Spread:
    """Median and p90 of a set of minutes, and how many values they come from."""

    count: int
    median: float | None
    p90: float | None


@dataclass(frozen=True)
class ItemMonth:
    """Action items opened, closed and overdue in one month."""

    opened: int = 0
    closed: int = 0
    overdue: int = 0


@dataclass(frozen=True)
class TeamItems:
    """One team's action items now: open, closed, and open past their due date."""

    open: int = 0
    closed: int = 0
    overdue: int = 0


@dataclass(frozen=True)
class Publication:
    """SEV1-SEV2 incidents, how many have a published postmortem, and how fast."""

    serious: int
    published: int
    median_days_to_publish: float | None

    @property
    def share(self) -> float | None:
        """Published / serious, or None with no serious incidents."""
        return self.published / self.serious if self.serious else None


@dataclass(frozen=True)
class RecurrenceMonth:
    """Incidents of a month and how many of them recur an earlier incident."""

    incidents: int = 0
    recurrences: int = 0

    @property
    def share(self) -> float | None:
        """Recurrences / incidents, or None with no incidents."""
        return self.recurrences / self.incidents if self.incidents else None


@dataclass
class Tallies:
    """The counts and values the numbers come from, however they were gathered (in Python
    from facts here, by the database in services/insights.py). Durations are in minutes,
    close times and days to publish in days; negative response times are already left out."""

    incidents: Counter[tuple[str, str]] = field(default_factory=Counter)  # (month, severity)
    response: dict[str, dict[str, list[float]]] = field(default_factory=dict)  # month, metric
    factors: Counter[str] = field(default_factory=Counter)  # incidents per category
    recurrences: Counter[str] = field(default_factory=Counter)  # per month
    opened: Counter[str] = field(default_factory=Counter)
    closed: Counter[str] = field(default_factory=Counter)
    overdue: Counter[str] = field(default_factory=Counter)
    teams: dict[str, TeamItems] = field(default_factory=dict)
    close_by_kind: dict[str, list[float]] = field(default_factory=dict)
    close_by_priority: dict[str, list[float]] = field(default_factory=dict)
    serious: int = 0
    publish_days: list[float] = field(default_factory=list)
    item_count: int = 0


@dataclass(frozen=True)
class Insights:
    """Every number of the dashboard."""

    months: list[str]
    incidents_by_month: dict[str, dict[str, int]]
    response_by_month: dict[str, dict[str, Spread]]
    response_overall: dict[str, Spread]
    distributions: dict[str, list[tuple[str, int]]]
    top_factors: list[tuple[str, int]]
    items_by_month: dict[str, ItemMonth]
    items_by_team: dict[str, TeamItems]
    close_by_kind: dict[str, Spread]
    close_by_priority: dict[str, Spread]
    publication: Publication
    incident_count: int
    item_count: int
    recurrence_by_month: dict[str, RecurrenceMonth] = field(default_factory=dict)
    recurrence: RecurrenceMonth = RecurrenceMonth()


def month_of(moment: dt.datetime | dt.date) -> str:
    """'2024-03' for any moment in March 2024 (UTC)."""
    if isinstance(moment, dt.datetime) and moment.tzinfo is not dt.UTC and moment.utcoffset():
        moment = moment.astimezone(dt.UTC)
    return f"{moment.year:04d}-{moment.month:02d}"


def months_between(first: str, last: str) -> list[str]:
    """Every month from `first` to `last`, both included."""
    year, month = int(first[:4]), int(first[5:])
    out = []
    while f"{year:04d}-{month:02d}" <= last:
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def percentile(values: Sequence[float], share: float) -> float | None:
    """Nearest-rank percentile: the smallest value with at least `share` of values <= it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def spread(values: Sequence[float]) -> Spread:
    """Median and nearest-rank p90 of `values`."""
    if not values:
        return Spread(0, None, None)
    return Spread(len(values), float(statistics.median(values)), percentile(values, 0.9))


def bucket_of(minutes: float) -> str:
    """The distribution bucket a duration falls in."""
    for label, bound in BUCKETS:
        if bound is None or minutes < bound:
            return label
    return BUCKETS[-1][0]


def _minutes(value: dt.timedelta | None) -> float | None:
    if value is None or value < dt.timedelta(0):
        return None
    return value.total_seconds() / 60


def _spreads(
    values: dict[str, dict[str, list[float]]],
) -> tuple[dict[str, dict[str, Spread]], dict[str, Spread], dict[str, list[tuple[str, int]]]]:
    overall: dict[str, list[float]] = {name: [] for name in METRICS}
    for month in values.values():
        for name in METRICS:
            overall[name].extend(month.get(name, []))
    by_month = {
        month: {name: spread(found.get(name, [])) for name in METRICS}
        for month, found in values.items()
    }
    # bucket_of for many values at once: the first bound above each value, by bisection.
    bounds = [bound for _, bound in BUCKETS if bound is not None]
    counted = {
        name: Counter(bisect.bisect_right(bounds, v) for v in found)
        for name, found in overall.items()
    }
    distributions = {
        name: [(label, counts[index]) for index, (label, _) in enumerate(BUCKETS)]
        for name, counts in counted.items()
    }
    return by_month, {name: spread(v) for name, v in overall.items()}, distributions


def _overdue_month(item: ItemFacts, today: dt.date) -> str | None:
    """The month an item counts as overdue in, or None."""
    if item.due is None:
        return None
    if item.closed_at is None:
        return month_of(item.due) if item.due < today else None
    return month_of(item.due) if item.closed_at.astimezone(dt.UTC).date() > item.due else None


def _tally_incidents(tallies: Tallies, incidents: Sequence[IncidentFacts]) -> None:
    for incident in incidents:
        month = month_of(incident.created_at)
        tallies.incidents[(month, incident.severity)] += 1
        tallies.recurrences[month] += int(incident.recurs)
        found = tallies.response.setdefault(month, {})
        for name in METRICS:
            minutes = _minutes(incident.durations.get(name))
            if minutes is not None:
                found.setdefault(name, []).append(minutes)
        tallies.factors.update(set(incident.factor_categories))
        if incident.severity in SERIOUS:
            tallies.serious += 1
            if incident.published_at is not None:
                seconds = (incident.published_at - incident.created_at).total_seconds()
                tallies.publish_days.append(seconds / 86400)


def _tally_items(tallies: Tallies, items: Sequence[ItemFacts], today: dt.date) -> None:
    teams: dict[str, list[int]] = {}
    for item in items:
        tallies.opened[month_of(item.opened_at)] += 1
        overdue = _overdue_month(item, today)
        if overdue:
            tallies.overdue[overdue] += 1
        counts = teams.setdefault(item.team or NO_TEAM, [0, 0, 0])
        if item.closed_at is None:
            counts[0] += 1
            counts[2] += int(item.due is not None and item.due < today)
            continue
        counts[1] += 1
        tallies.closed[month_of(item.closed_at)] += 1
        days = (item.closed_at - item.opened_at).total_seconds() / 3600 / 24
        tallies.close_by_kind.setdefault(item.kind, []).append(days)
        tallies.close_by_priority.setdefault(item.priority, []).append(days)
    tallies.teams = {team: TeamItems(*counts) for team, counts in teams.items()}
    tallies.item_count += len(items)


def tally(
    incidents: Sequence[IncidentFacts], items: Sequence[ItemFacts], today: dt.date
) -> Tallies:
    """The counts and values of these incidents and items."""
    tallies = Tallies()
    _tally_incidents(tallies, incidents)
    _tally_items(tallies, items, today)
    return tallies


def compute_insights(
    incidents: Sequence[IncidentFacts],
    items: Sequence[ItemFacts],
    *,
    today: dt.date,
    first_month: str | None = None,
    last_month: str | None = None,
) -> Insights:
    """Every number of the dashboard from the incidents and items in view. Months run from
    `first_month` (default: the earliest month anything happened in) to `last_month`
    (default: the latest), every month listed even when empty. Close times are in days."""
    return insights_from(
        tally(incidents, items, today),
        today=today,
        first_month=first_month,
        last_month=last_month,
    )


def insights_from(
    tallies: Tallies,
    *,
    today: dt.date,
    first_month: str | None = None,
    last_month: str | None = None,
) -> Insights:
    """Every number of the dashboard from their tallies (months as in compute_insights)."""
    per_month: dict[str, Counter[str]] = {}
    for (month, severity), count in tallies.incidents.items():
        per_month.setdefault(month, Counter())[severity] += count
    seen = [*per_month, *tallies.opened, *tallies.closed, *tallies.overdue]
    seen = [month for month in seen if month]
    first = first_month or (min(seen) if seen else month_of(today))
    last = last_month or (max(seen) if seen else month_of(today))
    months = months_between(first, last)
    by_month, overall, distributions = _spreads(tallies.response)
    empty = {name: Spread(0, None, None) for name in METRICS}
    incident_count = sum(tallies.incidents.values())
    days = tallies.publish_days
    return Insights(
        months=months,
        incidents_by_month={
            month: {sev: per_month.get(month, Counter())[sev] for sev in SEVERITIES}
            for month in months
        },
        response_by_month={month: by_month.get(month, empty) for month in months},
        response_overall=overall,
        distributions=distributions,
        top_factors=sorted(tallies.factors.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_FACTORS],
        items_by_month={
            month: ItemMonth(tallies.opened[month], tallies.closed[month], tallies.overdue[month])
            for month in months
        },
        items_by_team=dict(sorted(tallies.teams.items())),
        close_by_kind={k: spread(v) for k, v in sorted(tallies.close_by_kind.items())},
        close_by_priority={k: spread(v) for k, v in sorted(tallies.close_by_priority.items())},
        publication=Publication(
            tallies.serious, len(days), float(statistics.median(days)) if days else None
        ),
        incident_count=incident_count,
        item_count=tallies.item_count,
        recurrence_by_month={
            month: RecurrenceMonth(
                sum(per_month.get(month, Counter()).values()), tallies.recurrences[month]
            )
            for month in months
        },
        recurrence=RecurrenceMonth(incident_count, sum(tallies.recurrences.values())),
    )
