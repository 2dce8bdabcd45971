"""Impact computed from metric series: where the SLO was broken, for how long, how many requests
failed, how much error budget that took and how fast it burned.

Definitions (each computed number carries its own formula and the series and time it read):
- a sample is *bad* when it breaks the SLO's condition: latency above the threshold, or an error
  ratio (errors / total, or 1 - good / total) above the budget share (1 - target);
- an *impact window* is a run of bad samples, from the first bad sample to the first good one
  after it; windows closer than the merge gap are joined, shorter than the minimum are dropped;
- downtime = the summed length of the windows;
- failed requests = the sum of error rate x sample interval over the windows (request series are
  rates per second, as Prometheus' `rate()` gives them);
- error budget consumed = failed requests / ((1 - target) x mean total rate x SLO window), or,
  for latency, bad minutes / ((1 - target) x SLO window minutes), in percent;
- burn rate = the error ratio inside the windows / (1 - target): 1 spends the budget exactly
  over the SLO window, 14.4 spends 2% of a 30-day budget in an hour.
Without an SLO (or without the series it needs) the windows come from `anomaly_windows`, a
robust change detector, and only the downtime is given: the budget needs an objective.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from hindsight.analysis.metrics import format_duration
from hindsight.domain.impact import Slo, SloObjective

Point = tuple[dt.datetime, float]


class SeriesRole(StrEnum):
    """What a series measures, which says how impact is computed from it."""

    VALUE = "value"
    LATENCY = "latency"
    ERRORS = "errors"
    GOOD = "good"
    TOTAL = "total"
    USERS = "users"


@dataclass(frozen=True)
class Series:
    """One metric series: its query or name, what it measures, and its samples in time order."""

    name: str
    role: SeriesRole
    points: tuple[Point, ...]
    origin: str = ""

    def where(self, start: dt.datetime, end: dt.datetime) -> str:
        """'from `name` 2014-03-14 03:31-14:41 UTC': the series and time a number comes from."""
        last = f"{end:%H:%M}" if end.date() == start.date() else f"{end:%Y-%m-%d %H:%M}"
        return f"from `{self.name}` {start:%Y-%m-%d %H:%M}-{last} UTC"


@dataclass(frozen=True)
class WindowRule:
    """How bad samples become windows: joined across gaps, kept when long enough."""

    min_duration: dt.timedelta = dt.timedelta(0)
    merge_gap: dt.timedelta = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class AnomalyParams:
    """The change detector's settings; the defaults were chosen by bench/impact's grid search
    on a dev split of the NAB series (never the series the tests read) and are reported there
    on the held-out split."""

    baseline_points: int = 144
    threshold: float = 6.0
    merge_gap: dt.timedelta = dt.timedelta(hours=4)
    keep_ratio: float = 0.1
    pad_fraction: float = 0.04
    max_windows: int = 5


@dataclass(frozen=True)
class ImpactWindow:
    """A stretch of time the series say users were hurt, and the condition that said so."""

    start: dt.datetime
    end: dt.datetime
    basis: str

    @property
    def duration(self) -> dt.timedelta:
        """How long the window lasted."""
        return self.end - self.start


@dataclass(frozen=True)
class ComputedNumber:
    """A number for the impact part (`field` is its dotted path there), how it was computed
    and where from."""

    field: str
    label: str
    value: float
    formula: str
    origin: str

    @property
    def shown(self) -> str:
        """The value as people read it (whole numbers without decimals)."""
        return f"{self.value:,.0f}" if float(self.value).is_integer() else f"{self.value:,.2f}"


@dataclass(frozen=True)
class ImpactEstimate:
    """What the series say: the windows, the numbers, and why any number is missing."""

    windows: tuple[ImpactWindow, ...]
    numbers: tuple[ComputedNumber, ...]
    notes: tuple[str, ...] = field(default=())

    def number(self, name: str) -> ComputedNumber | None:
        """The computed number for the field `name`, if there is one."""
        return next((n for n in self.numbers if n.field == name), None)


def typical_step(points: Sequence[Point]) -> dt.timedelta:
    """The median interval between samples (one minute when there are too few to tell)."""
    if len(points) < 2:
        return dt.timedelta(minutes=1)
    gaps = [(b[0] - a[0]).total_seconds() for a, b in itertools.pairwise(points)]
    return dt.timedelta(seconds=statistics.median(gaps))


def _runs(flags: Sequence[bool]) -> list[tuple[int, int]]:
    """(first, last) indexes of each run of True."""
    runs: list[tuple[int, int]] = []
    start = -1
    for index, flag in enumerate(flags):
        if flag and start < 0:
            start = index
        elif not flag and start >= 0:
            runs.append((start, index - 1))
            start = -1
    if start >= 0:
        runs.append((start, len(flags) - 1))
    return runs


def _spans(
    points: Sequence[Point], runs: list[tuple[int, int]]
) -> list[tuple[dt.datetime, dt.datetime]]:
    """Each run as (start, end): to the next sample, or one step past the last."""
    step = typical_step(points)
    spans: list[tuple[dt.datetime, dt.datetime]] = []
    for first, last in runs:
        end = points[last + 1][0] if last + 1 < len(points) else points[last][0] + step
        spans.append((points[first][0], end))
    return spans


def _merge(
    spans: list[tuple[dt.datetime, dt.datetime]], gap: dt.timedelta
) -> list[list[dt.datetime]]:
    merged: list[list[dt.datetime]] = []
    for start, end in spans:
        if merged and start - merged[-1][1] <= gap:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return merged


def condition_windows(
    points: Sequence[Point], bad: Callable[[float], bool], rule: WindowRule, basis: str
) -> list[ImpactWindow]:
    """The windows where `bad` holds, joined across `rule.merge_gap`, at least
    `rule.min_duration` long."""
    spans = _spans(points, _runs([bad(value) for _at, value in points]))
    return [
        ImpactWindow(start, end, basis)
        for start, end in _merge(spans, rule.merge_gap)
        if end - start >= rule.min_duration
    ]


def departure_scores(values: Sequence[float], baseline: int) -> list[float]:
    """How far each value departs from the `baseline` values before it, in robust standard
    deviations (median and scaled median absolute deviation; the scale never falls below 1%
    of the median, so a flat series does not make every wiggle a departure)."""
    scores = [0.0] * len(values)
    if len(values) <= baseline or baseline < 3:
        return scores
    window = sorted(values[:baseline])
    for index in range(baseline, len(values)):
        middle = _median_sorted(window)
        spread = statistics.median(abs(v - middle) for v in window) * 1.4826
        scale = max(spread, 0.01 * abs(middle), 1e-9)
        scores[index] = abs(values[index] - middle) / scale
        del window[bisect.bisect_left(window, values[index - baseline])]
        bisect.insort(window, values[index])
    return scores


def _median_sorted(items: list[float]) -> float:
    half = len(items) // 2
    return items[half] if len(items) % 2 else (items[half - 1] + items[half]) / 2


def anomaly_windows(
    points: Sequence[Point],
    params: AnomalyParams = AnomalyParams(),
    scores: Sequence[float] | None = None,
) -> list[ImpactWindow]:
    """Where the series departs from its own recent past: runs of samples more than
    `threshold` robust deviations from the preceding `baseline_points`, joined across
    `merge_gap`; the `max_windows` strongest are kept, those at least `keep_ratio` of the
    strongest, each widened by `pad_fraction` of the series' span (a departure is seen after
    it has begun and lasts after it ends). `scores` may be given when already computed
    (`departure_scores` with the same `baseline_points`)."""
    if len(points) < 3:
        return []
    if scores is None:
        scores = departure_scores([value for _at, value in points], params.baseline_points)
    runs = _runs([score > params.threshold for score in scores])
    if not runs:
        return []
    groups: list[tuple[int, int]] = []
    for first, last in runs:
        if groups and points[first][0] - points[groups[-1][1]][0] <= params.merge_gap:
            groups[-1] = (groups[-1][0], last)
        else:
            groups.append((first, last))
    peaks = [max(scores[a : b + 1]) for a, b in groups]
    strongest = max(peaks)
    ranked = sorted(
        (
            (peak, group)
            for peak, group in zip(peaks, groups, strict=True)
            if peak >= params.keep_ratio * strongest
        ),
        reverse=True,
    )[: params.max_windows]
    pad = (points[-1][0] - points[0][0]) * params.pad_fraction
    padded: list[tuple[dt.datetime, dt.datetime, float]] = []
    for peak, (first, last) in sorted(ranked, key=lambda item: item[1]):
        start = max(points[first][0] - pad, points[0][0])
        end = min(points[last][0] + pad, points[-1][0])
        if padded and start <= padded[-1][1]:
            previous = padded.pop()
            start, end, peak = previous[0], max(end, previous[1]), max(peak, previous[2])
        padded.append((start, end, peak))
    return [
        ImpactWindow(start, end, f"departs from its baseline (peak {peak:.0f} deviations)")
        for start, end, peak in padded
    ]


def _inside(at: dt.datetime, windows: Sequence[ImpactWindow]) -> bool:
    return any(w.start <= at < w.end for w in windows)


def _first(series: Sequence[Series], *roles: SeriesRole) -> Series | None:
    return next((s for role in roles for s in series if s.role is role and s.points), None)


def _aligned(left: Series, right: Series) -> list[tuple[dt.datetime, float, float]]:
    """Samples of `left` paired with the sample of `right` at the same time."""
    other = dict(right.points)
    return [(at, value, other[at]) for at, value in left.points if at in other]


def _span_text(windows: Sequence[ImpactWindow]) -> str:
    def one(w: ImpactWindow) -> str:
        same_day = w.start.date() == w.end.date()
        end = f"{w.end:%H:%M}" if same_day else f"{w.end:%Y-%m-%d %H:%M}"
        return f"{w.start:%Y-%m-%d %H:%M}-{end} ({format_duration(w.duration)})"

    return " + ".join(one(w) for w in windows)


def _downtime(windows: Sequence[ImpactWindow], source: Series) -> ComputedNumber:
    minutes = sum(w.duration.total_seconds() for w in windows) / 60
    return ComputedNumber(
        "downtime_minutes",
        "Downtime (minutes)",
        round(minutes, 2),
        f"sum of the impact windows: {_span_text(windows)}",
        source.where(windows[0].start, windows[-1].end),
    )


def compute_impact(
    series: Sequence[Series],
    slo: Slo,
    target_percent: float | None,
    rule: WindowRule = WindowRule(),
    params: AnomalyParams = AnomalyParams(),
) -> ImpactEstimate:
    """The impact the series show, under the SLO when there is one (module docstring)."""
    notes: list[str] = []
    if slo.objective is SloObjective.LATENCY and target_percent is not None:
        latency = _first(series, SeriesRole.LATENCY, SeriesRole.VALUE)
        if latency is not None:
            return _latency(latency, slo, target_percent, rule, series)
        notes.append("the latency SLO needs a series with role 'latency'")
    if slo.objective is SloObjective.AVAILABILITY and target_percent is not None:
        total = _first(series, SeriesRole.TOTAL)
        failing = _first(series, SeriesRole.ERRORS, SeriesRole.GOOD)
        if total is not None and failing is not None:
            return _availability(total, failing, slo, target_percent, rule, series)
        notes.append("the availability SLO needs a 'total' series and an 'errors' or 'good' one")
    source = _first(
        series, SeriesRole.LATENCY, SeriesRole.ERRORS, SeriesRole.VALUE, SeriesRole.TOTAL
    )
    if source is None:
        return ImpactEstimate((), (), (*notes, "no series to compute the impact from"))
    windows = anomaly_windows(source.points, params)
    if not slo.objective:
        notes.append("no SLO is set: windows are where the series departs from its baseline")
    if not windows:
        return ImpactEstimate((), (), (*notes, f"`{source.name}` shows no departure"))
    numbers = [_downtime(windows, source)]
    numbers += _users(series, windows)
    return ImpactEstimate(tuple(windows), tuple(numbers), tuple(notes))


def _budget_share(target_percent: float) -> float:
    return max(1 - target_percent / 100, 1e-12)


def _latency(
    latency: Series, slo: Slo, target: float, rule: WindowRule, series: Sequence[Series]
) -> ImpactEstimate:
    threshold = slo.latency_threshold_ms or 0.0
    windows = condition_windows(
        latency.points, lambda v: v > threshold, rule, f"latency above {threshold:g} ms"
    )
    if not windows:
        return ImpactEstimate((), (), (f"`{latency.name}` never rose above {threshold:g} ms",))
    numbers = [_downtime(windows, latency)]
    bad_minutes = numbers[0].value
    where = numbers[0].origin
    span = (windows[-1].end - windows[0].start).total_seconds() / 60
    share = _budget_share(target)
    numbers.append(
        ComputedNumber(
            "burn_rate",
            "Burn rate",
            round(bad_minutes / max(span, 1e-9) / share, 2),
            f"bad minutes {bad_minutes:g} / {span:g} minutes of impact / (1 - {target:g}%)",
            where,
        )
    )
    if slo.window_days:
        budget = share * slo.window_days * 1440
        numbers.append(
            ComputedNumber(
                "error_budget_burned_percent",
                "Error budget consumed (%)",
                round(bad_minutes / budget * 100, 2),
                f"bad minutes {bad_minutes:g} / ((1 - {target:g}%) x {slo.window_days:g} days "
                f"= {budget:,.1f} minutes) x 100",
                where,
            )
        )
    numbers += _users(series, windows)
    return ImpactEstimate(tuple(windows), tuple(numbers))


def _availability(
    total: Series,
    failing: Series,
    slo: Slo,
    target: float,
    rule: WindowRule,
    series: Sequence[Series],
) -> ImpactEstimate:
    share = _budget_share(target)
    rows = _aligned(total, failing)
    errors = [
        (at, (bad if failing.role is SeriesRole.ERRORS else max(all_ - bad, 0.0)), all_)
        for at, all_, bad in rows
    ]
    if not errors:
        return ImpactEstimate(
            (), (), (f"`{total.name}` and `{failing.name}` share no sample time",)
        )
    ratio_points = [(at, e / t if t > 0 else 0.0) for at, e, t in errors]
    windows = condition_windows(
        ratio_points, lambda r: r > share, rule, f"error ratio above {share * 100:g}%"
    )
    if not windows:
        return ImpactEstimate((), (), (f"the error ratio never rose above {share * 100:g}%",))
    step = typical_step(ratio_points)
    failed = sum(e for at, e, _t in errors if _inside(at, windows)) * step.total_seconds()
    served = sum(t for at, _e, t in errors if _inside(at, windows)) * step.total_seconds()
    where = failing.where(windows[0].start, windows[-1].end)
    numbers = [
        _downtime(windows, failing),
        ComputedNumber(
            "failed_requests",
            "Failed requests",
            round(failed),
            f"sum of error rate x {step.total_seconds():g} s over the impact windows",
            where,
        ),
        ComputedNumber(
            "burn_rate",
            "Burn rate",
            round(failed / max(served, 1e-9) / share, 2),
            f"error ratio in the windows ({failed:,.0f} / {served:,.0f}) / (1 - {target:g}%)",
            where,
        ),
    ]
    if slo.window_days:
        mean_rate = statistics.fmean(t for _at, _e, t in errors)
        budget = share * mean_rate * slo.window_days * 86400
        numbers.append(
            ComputedNumber(
                "error_budget_burned_percent",
                "Error budget consumed (%)",
                round(failed / max(budget, 1e-9) * 100, 2),
                f"failed {failed:,.0f} / ((1 - {target:g}%) x mean {mean_rate:,.2f} req/s x "
                f"{slo.window_days:g} days = {budget:,.0f} requests) x 100",
                total.where(total.points[0][0], total.points[-1][0]),
            )
        )
    numbers += _users(series, windows)
    return ImpactEstimate(tuple(windows), tuple(numbers))


def _users(series: Sequence[Series], windows: Sequence[ImpactWindow]) -> list[ComputedNumber]:
    users = _first(series, SeriesRole.USERS)
    if users is None:
        return []
    inside = [value for at, value in users.points if _inside(at, windows)]
    if not inside:
        return []
    return [
        ComputedNumber(
            "users_affected",
            "Users affected",
            round(max(inside)),
            "the most users the users series counts inside the impact windows",
            users.where(windows[0].start, windows[-1].end),
        )
    ]
