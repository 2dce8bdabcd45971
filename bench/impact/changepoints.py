"""An experiment, not shipped: impact windows from ruptures' change points (PELT) plus the
strongest single departure, with narrow windows; scored in bench/impact beside the shipped
`analysis.impact.anomaly_windows`. On the dev split it beat the shipped detector
(P 0.83 R 0.73 against 0.76 / 0.62); on the held-out split, scored once, it did not
(docs/benchmarks.md), so it stays here. Needs `pip install ruptures` (not a dependency)."""

from __future__ import annotations

import bisect
import datetime as dt
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import ruptures  # type: ignore[import-untyped]

from hindsight.analysis.impact import ImpactWindow, Point


@dataclass(frozen=True)
class ChangeParams:
    """The settings chosen on the dev split (a grid over PELT's penalty, the counts, the
    departure threshold and the width; the shipped detector's grid is in run.py)."""

    change_points: int = 3
    change_penalty: float = 10.0
    change_max_points: int = 500
    departures: int = 1
    baseline_points: int = 288
    threshold: float = 6.0
    floor_share: float = 0.25
    half_width_fraction: float = 0.02


def floored_departure_scores(
    values: Sequence[float], baseline: int, floor_share: float = 0.25
) -> list[float]:
    """How far each value departs from the `baseline` values before it, in robust standard
    deviations (median and scaled median absolute deviation). The scale never falls below
    `floor_share` of the whole series' mean absolute deviation from its median, so a flat
    stretch (a median absolute deviation of 0, common in CPU and disk series) does not make
    every wiggle after it a departure of a billion deviations."""
    scores = [0.0] * len(values)
    if len(values) <= baseline or baseline < 3:
        return scores
    centre = statistics.median(values)
    floor = floor_share * statistics.fmean(abs(v - centre) for v in values)
    window = sorted(values[:baseline])
    for index in range(baseline, len(values)):
        middle = _median_sorted(window)
        spread = statistics.median(abs(v - middle) for v in window) * 1.4826
        scale = max(spread, floor, 1e-9)
        scores[index] = abs(values[index] - middle) / scale
        del window[bisect.bisect_left(window, values[index - baseline])]
        bisect.insort(window, values[index])
    return scores


def _median_sorted(items: list[float]) -> float:
    half = len(items) // 2
    return items[half] if len(items) % 2 else (items[half - 1] + items[half]) / 2


def change_points(values: Sequence[float], params: ChangeParams) -> list[tuple[float, int]]:
    """(shift, index) of each change in level, the largest shift first: ruptures' PELT with a
    least-squares cost over the series averaged down to `change_max_points` (PELT's cost grows
    with the square of the length), on values scaled by the noise of consecutive differences;
    the penalty is `change_penalty` x log(length) (BIC-like). The shift is the difference of
    the medians on either side, in those noise units."""
    step = max(1, -(-len(values) // params.change_max_points))
    count = len(values) // step
    if count < 8:
        return []
    reduced = np.asarray(values[: count * step], dtype=float).reshape(count, step).mean(axis=1)
    noise = float(np.median(np.abs(np.diff(reduced)))) * 1.4826 / np.sqrt(2)
    scale = noise or float(reduced.std()) or 1.0
    scaled = (reduced - np.median(reduced)) / scale
    found = ruptures.Pelt(model="l2", min_size=3, jump=1).fit(scaled.reshape(-1, 1))
    edges = [0, *found.predict(pen=params.change_penalty * np.log(count))]
    shifts = [
        (
            float(abs(np.median(scaled[b:c]) - np.median(scaled[a:b]))),
            b * step,
        )
        for a, b, c in zip(edges, edges[1:], edges[2:], strict=False)
    ]
    return sorted(shifts, reverse=True)


def _strongest_departures(scores: Sequence[float], params: ChangeParams) -> list[tuple[float, int]]:
    """(score, index) of the `departures` highest scores above the threshold, each at least
    6% of the series away from a stronger one (one departure, not its neighbours)."""
    apart = max(1, int(0.06 * len(scores)))
    work = list(scores)
    picks: list[tuple[float, int]] = []
    while len(picks) < params.departures:
        index = max(range(len(work)), key=work.__getitem__)
        if work[index] <= params.threshold:
            break
        picks.append((work[index], index))
        for near in range(max(0, index - apart), min(len(work), index + apart + 1)):
            work[near] = 0.0
    return picks


def change_windows(
    points: Sequence[Point],
    params: ChangeParams = ChangeParams(),
    scores: Sequence[float] | None = None,
    shifts: Sequence[tuple[float, int]] | None = None,
) -> list[ImpactWindow]:
    """Where the series changes: the `change_points` largest changes in level (ruptures)
    and the `departures` strongest single departures from the recent past (a spike is not a
    change in level), each a window of `half_width_fraction` of the series' span on either
    side, overlapping windows joined. Fixed counts rather than a threshold on the scores:
    NAB's series hold one to five labelled anomalies each, and the scores of a spiky series
    and a flat one are not comparable. `scores` and `shifts` may be given when already
    computed with the same parameters."""
    if len(points) < 3:
        return []
    values = [value for _at, value in points]
    if scores is None:
        scores = floored_departure_scores(values, params.baseline_points, params.floor_share)
    picks = [
        (index, f"its level shifts by {shift:.0f} deviations")
        for shift, index in (change_points(values, params) if shifts is None else shifts)[
            : params.change_points
        ]
    ]
    picks += [
        (index, f"departs from its baseline (peak {score:.0f} deviations)")
        for score, index in _strongest_departures(scores, params)
    ]
    first, last = points[0][0], points[-1][0]
    half = (last - first) * params.half_width_fraction
    joined: list[tuple[dt.datetime, dt.datetime, list[str]]] = []
    for index, basis in sorted(picks):
        at = points[min(index, len(points) - 1)][0]
        start, end = max(at - half, first), min(at + half, last)
        if joined and start <= joined[-1][1]:
            joined[-1] = (joined[-1][0], max(end, joined[-1][1]), [*joined[-1][2], basis])
        else:
            joined.append((start, end, [basis]))
    return [ImpactWindow(start, end, "; ".join(bases)) for start, end, bases in joined]
