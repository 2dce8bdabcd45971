"""The trends a team learns from, computed from plain facts about incidents and action items.

Definitions (docs/web.md "Insights" says the same):
- a month is the UTC calendar month an incident was created in (an item: opened / closed in);
- response times are analysis/metrics.py's, per incident; a negative one (moments kept out of
  order with a reason) is left out, as the postmortem shows it "inconsistent";
- the median is the middle value (the mean of the two middle ones for an even count); p90 is
  the nearest-rank 90th percentile: the smallest value with at least 90 % of values at or
  below it; both are read from log-bucketed histograms (analysis/histograms.py: each value
  estimated by the mean of its bucket, at most 9 % off and exact when a bucket's values are
  equal), so that the database can keep them as counts;
- an item is overdue in the month of its due date when it was not closed by the end of that
  day (an item still open counts only once its due date has passed);
- time to close runs from an item's opening to its closing (done or won't do);
- days to publish run from an incident's creation to its first publication.
No IO and no clock: `today` is passed in.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from hindsight.domain.histograms import BANDS, SERIOUS, Histogram, band_of

SEVERITIES = ("SEV1", "SEV2", "SEV3", "SEV4", "SEV5")
METRICS = ("time_to_detect", "time_to_acknowledge", "time_to_mitigate", "time_to_resolve")
METRIC_LABELS = {
    "time_to_detect": "Time to detect",
    "time_to_acknowledge": "Time to acknowledge",
    "time_to_mitigate": "Time to mitigate",
    "time_to_resolve": "Time to resolve",
}
BUCKETS = BANDS  # distribution buckets: (label, upper bound in minutes, exclusive)
TOP_FACTORS = 10
NO_TEAM = "(no team)"


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
    from facts here, by the database in services/insights.py). Durations, close times and
    times to publish are histograms of seconds; negative response times are already left
    out. `bands` counts each response time's distribution bucket (BUCKETS, by index)."""

    incidents: Counter[tuple[str, str]] = field(default_factory=Counter)  # (month, severity)
    response: dict[str, dict[str, Histogram]] = field(default_factory=dict)  # month, metric
    bands: dict[str, Counter[int]] = field(default_factory=dict)  # metric -> band -> count
    factors: Counter[str] = field(default_factory=Counter)  # incidents per category
    recurrences: Counter[str] = field(default_factory=Counter)  # per month
    opened: Counter[str] = field(default_factory=Counter)
    closed: Counter[str] = field(default_factory=Counter)
    overdue: Counter[str] = field(default_factory=Counter)
    teams: dict[str, TeamItems] = field(default_factory=dict)
    close_by_kind: dict[str, Histogram] = field(default_factory=dict)
    close_by_priority: dict[str, Histogram] = field(default_factory=dict)
    serious: int = 0
    publish: Histogram = field(default_factory=Histogram)
    item_count: int = 0

    def add_response(self, month: str, metric: str, seconds: float) -> None:
        """Count one response time (seconds, not negative) of an incident of `month`."""
        self.response.setdefault(month, {}).setdefault(metric, Histogram()).add(seconds)
        self.bands.setdefault(metric, Counter())[band_of(seconds / 60)] += 1

    def add_close(self, kind: str, priority: str, seconds: float) -> None:
        """Count one item's time to close (seconds) under its kind and priority."""
        self.close_by_kind.setdefault(kind, Histogram()).add(seconds)
        self.close_by_priority.setdefault(priority, Histogram()).add(seconds)


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
    """Median and nearest-rank p90 of `values`, exactly."""
    if not values:
        return Spread(0, None, None)
    return Spread(len(values), float(statistics.median(values)), percentile(values, 0.9))


def spread_of(histogram: Histogram | None, unit: float) -> Spread:
    """Median and p90 of a histogram of seconds, in `unit` seconds (60: minutes)."""
    if histogram is None or not histogram.count:
        return Spread(0, None, None)
    median, p90 = histogram.median(), histogram.percentile(0.9)
    assert median is not None and p90 is not None
    # To the millisecond, as stored: bucket sums added up in another order (the rollups'
    # upserts, a pass over the facts) then give the same number, not one a bit apart.
    return Spread(histogram.count, round(median, 3) / unit, round(p90, 3) / unit)


def bucket_of(minutes: float) -> str:
    """The distribution bucket a duration falls in."""
    return BUCKETS[band_of(minutes)][0]


def _seconds(value: dt.timedelta | None) -> float | None:
    if value is None or value < dt.timedelta(0):
        return None
    return value.total_seconds()


def _spreads(
    tallies: Tallies,
) -> tuple[dict[str, dict[str, Spread]], dict[str, Spread], dict[str, list[tuple[str, int]]]]:
    overall = {name: Histogram() for name in METRICS}
    for month in tallies.response.values():
        for name, histogram in month.items():
            overall[name].merge(histogram)
    by_month = {
        month: {name: spread_of(found.get(name), 60) for name in METRICS}
        for month, found in tallies.response.items()
    }
    distributions = {
        name: [
            (label, tallies.bands.get(name, Counter())[index])
            for index, (label, _) in enumerate(BUCKETS)
        ]
        for name in METRICS
    }
    return by_month, {name: spread_of(h, 60) for name, h in overall.items()}, distributions


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
        tallies.response.setdefault(month, {})
        for name in METRICS:
            seconds = _seconds(incident.durations.get(name))
            if seconds is not None:
                tallies.add_response(month, name, seconds)
        tallies.factors.update(set(incident.factor_categories))
        if incident.severity in SERIOUS:
            tallies.serious += 1
            if incident.published_at is not None:
                seconds = (incident.published_at - incident.created_at).total_seconds()
                tallies.publish.add(max(0.0, seconds))


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
        seconds = (item.closed_at - item.opened_at).total_seconds()
        tallies.add_close(item.kind, item.priority, max(0.0, seconds))
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
    by_month, overall, distributions = _spreads(tallies)
    empty = {name: Spread(0, None, None) for name in METRICS}
    incident_count = sum(tallies.incidents.values())
    day = 86400.0
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
        close_by_kind={k: spread_of(v, day) for k, v in sorted(tallies.close_by_kind.items())},
        close_by_priority={
            k: spread_of(v, day) for k, v in sorted(tallies.close_by_priority.items())
        },
        publication=Publication(
            tallies.serious,
            tallies.publish.count,
            spread_of(tallies.publish, day).median,
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
