"""Impact windows against NAB's labelled anomaly windows (`make bench`, or run this file).

For every NAB series with labelled windows: the windows `analysis.impact.anomaly_windows`
finds, and those of a plain threshold (mean ± 3 standard deviations of the whole series), each
scored by overlap, one to one: precision = detected windows matched to a labelled window they
overlap / detected windows; recall = labelled windows matched / labelled windows (a detection
matches one labelled window at most, so a window stretched over three labels finds one). The
parameters are chosen on the dev split (every other series by name, never the series the tests
read) and reported on the held-out split. When ruptures is installed, the change-point
experiment of changepoints.py (not shipped) is scored beside them in the same run. Last, a
fresh held-out set of another kind: Nezha's per-pod series with their injected faults
(`load_nezha`).
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from hindsight.analysis.impact import AnomalyParams, Point, anomaly_windows, departure_scores

sys.path.insert(0, str(Path(__file__).resolve().parent))
try:  # the change-point experiment needs ruptures, which Hindsight does not ship
    import changepoints
except ImportError:  # pragma: no cover - depends on what is installed
    changepoints = None  # type: ignore[assignment]

NAB = Path(__file__).resolve().parents[3] / "shared" / "data" / "rca" / "numenta-NAB"
Span = tuple[dt.datetime, dt.datetime]
TESTED = {"realKnownCause/ec2_request_latency_system_failure.csv"}


@dataclass(frozen=True)
class Labelled:
    name: str
    points: tuple[Point, ...]
    windows: tuple[Span, ...]


def _time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text[:19]).replace(tzinfo=dt.UTC)


def load(root: Path = NAB) -> list[Labelled]:
    """Every series of the NAB copy that has labelled windows, sorted by name."""
    labels = json.loads((root / "labels" / "combined_windows.json").read_text())
    found = []
    for name, windows in sorted(labels.items()):
        path = root / "data" / name
        if not windows or not path.exists():
            continue
        with path.open() as handle:
            points = tuple(
                (_time(r["timestamp"]), float(r["value"])) for r in csv.DictReader(handle)
            )
        found.append(Labelled(name, points, tuple((_time(a), _time(b)) for a, b in windows)))
    return found


NEZHA = NAB.parent / "nezha-sample"
NEZHA_COLUMNS = {"CpuUsageRate(%)": "CpuUsageRate(%)", "NetworkP90(ms)": "PodServerLatencyP90(s)"}
FAULT_WINDOW = dt.timedelta(minutes=5)


def load_nezha(root: Path = NEZHA) -> list[Labelled]:
    """A fresh held-out set of another kind, fixed before it was first scored: Nezha's per-pod
    series of 2022-08-22 (one sample a minute for a day), labelled with the faults injected
    into that pod whose root-cause indicator (Nezha's own map) is that series: CPU usage for
    CPU faults, the pod's server P90 latency for network delay. A labelled window runs from the
    injection for 5 minutes (the faults last 3 to 4 minutes). Series with no such fault are
    left out, as NAB leaves out unlabelled ones."""
    day = root / "rca_data" / "2022-08-22"
    if not day.exists():
        return []
    faults = [
        f
        for group in json.loads((day / "2022-08-22-fault_list.json").read_text()).values()
        for f in group
    ]
    causes = json.loads((root / "construct_data" / "root_cause_hipster.json").read_text())
    found = []
    for path in sorted((day / "metric").glob("*_metric.csv")):
        service = path.name.rsplit("-", 2)[0]
        with path.open() as handle:
            rows = list(csv.DictReader(handle))
        for indicator, column in NEZHA_COLUMNS.items():
            starts = sorted(
                dt.datetime.fromtimestamp(int(f["inject_timestamp"]), dt.UTC)
                for f in faults
                if f["inject_pod"].rsplit("-", 2)[0] == service
                and causes.get(service, {}).get(f["inject_type"]) == indicator
            )
            if not starts:
                continue
            points = tuple(
                (dt.datetime.fromtimestamp(int(r["TimeStamp"]), dt.UTC), float(r[column]))
                for r in rows
                if r[column] not in ("", "nan", "NaN")
            )
            windows = tuple((at, at + FAULT_WINDOW) for at in starts)
            found.append(Labelled(f"nezha/{service}/{column}", points, windows))
    return found


def threshold_baseline(points: tuple[Point, ...]) -> list[Span]:
    """Runs of samples more than 3 standard deviations from the series' mean."""
    values = [v for _t, v in points]
    mean, spread = statistics.fmean(values), statistics.pstdev(values)
    spans: list[Span] = []
    start = None
    for index, (at, value) in enumerate(points):
        bad = abs(value - mean) > 3 * spread
        if bad and start is None:
            start = at
        if start is not None and (not bad or index == len(points) - 1):
            spans.append((start, points[index - 1][0] if not bad else at))
            start = None
    return spans


def score(detected: list[Span], labelled: tuple[Span, ...]) -> tuple[int, int, int, int]:
    """(matched, detections, matched, labelled windows): each detection is matched to at most
    one labelled window it overlaps and each labelled window to at most one detection (the
    largest overlaps first), so one window stretched over three labels counts once."""

    def overlap(a: Span, b: Span) -> float:
        return (min(a[1], b[1]) - max(a[0], b[0])).total_seconds()

    pairs = sorted(
        (
            (overlap(d, w), i, j)
            for i, d in enumerate(detected)
            for j, w in enumerate(labelled)
            if overlap(d, w) >= 0
        ),
        reverse=True,
    )
    used_d: set[int] = set()
    used_w: set[int] = set()
    for _size, i, j in pairs:
        if i not in used_d and j not in used_w:
            used_d.add(i)
            used_w.add(j)
    return len(used_d), len(detected), len(used_w), len(labelled)


_SCORES: dict[tuple[int, int], list[float]] = {}


def loose(detected: list[Span], labelled: tuple[Span, ...]) -> tuple[int, int, int, int]:
    """The same counts when any overlap counts (one detection may find several labels)."""

    def overlaps(a: Span, b: Span) -> bool:
        return a[0] <= b[1] and b[0] <= a[1]

    true = sum(1 for d in detected if any(overlaps(d, w) for w in labelled))
    found = sum(1 for w in labelled if any(overlaps(d, w) for d in detected))
    return true, len(detected), found, len(labelled)


def ours(points: tuple[Point, ...], params: AnomalyParams) -> list[Span]:
    cache = (id(points), params.baseline_points)
    if cache not in _SCORES:
        _SCORES[cache] = departure_scores([v for _t, v in points], params.baseline_points)
    return [(w.start, w.end) for w in anomaly_windows(points, params, _SCORES[cache])]


_FLOORED: dict[tuple[int, int, float], list[float]] = {}
_SHIFTS: dict[tuple[int, float, int], list[tuple[float, int]]] = {}


def changes(points: tuple[Point, ...], params: changepoints.ChangeParams) -> list[Span]:
    """The change-point experiment's windows (bench/impact/changepoints.py)."""
    values = [v for _t, v in points]
    cache = (id(points), params.baseline_points, params.floor_share)
    if cache not in _FLOORED:
        _FLOORED[cache] = changepoints.floored_departure_scores(
            values, params.baseline_points, params.floor_share
        )
    key = (id(points), params.change_penalty, params.change_max_points)
    if key not in _SHIFTS:
        _SHIFTS[key] = changepoints.change_points(values, params)
    found = changepoints.change_windows(points, params, _FLOORED[cache], _SHIFTS[key])
    return [(w.start, w.end) for w in found]


def totals(rows: list[tuple[int, int, int, int]]) -> tuple[float, float]:
    true, detected, found, labelled = (sum(column) for column in zip(*rows, strict=True))
    return true / max(detected, 1), found / max(labelled, 1)


GRID: dict[str, tuple[object, ...]] = {
    "baseline_points": (24, 48, 144),
    "threshold": (3.0, 4.0, 6.0),
    "keep_ratio": (0.1, 0.2, 0.35),
    "pad_fraction": (0.0, 0.01, 0.02, 0.04),
    "max_windows": (3, 4, 5),
    "merge_gap": (dt.timedelta(hours=1), dt.timedelta(hours=4), dt.timedelta(hours=12)),
}


def tune(dev: list[Labelled]) -> AnomalyParams:
    """The grid point with the best min(precision / 0.6, recall / 0.8) on the dev split (then
    the best F1 among equals)."""
    best, best_params = (-1.0, -1.0), AnomalyParams()
    for values in itertools.product(*GRID.values()):
        params = replace(AnomalyParams(), **dict(zip(GRID, values, strict=True)))  # type: ignore[arg-type]
        precision, recall = totals([score(ours(s.points, params), s.windows) for s in dev])
        f1 = 2 * precision * recall / max(precision + recall, 1e-9)
        value = (min(precision / 0.6, recall / 0.8), f1)
        if value > best:
            best, best_params = value, params
    return best_params


CHANGE_GRID: dict[str, tuple[object, ...]] = {
    "change_points": (3, 2, 4),
    "change_penalty": (10.0, 5.0, 20.0),
    "departures": (1, 0, 2),
    "threshold": (6.0, 4.0, 9.0),
    "half_width_fraction": (0.02, 0.01, 0.03),
}


def tune_changes(dev: list[Labelled]) -> object:
    """The same choice for the change-point experiment (its grid lists its defaults first, so
    ties keep them)."""
    best, best_params = (-1.0, -1.0), changepoints.ChangeParams()
    for values in itertools.product(*CHANGE_GRID.values()):
        params = replace(changepoints.ChangeParams(), **dict(zip(CHANGE_GRID, values, strict=True)))  # type: ignore[arg-type]
        precision, recall = totals([score(changes(s.points, params), s.windows) for s in dev])
        f1 = 2 * precision * recall / max(precision + recall, 1e-9)
        value = (min(precision / 0.6, recall / 0.8), f1)
        if value > best:
            best, best_params = value, params
    return best_params


def methods(params: AnomalyParams) -> dict[str, Callable[[tuple[Point, ...]], list[Span]]]:
    """The detectors scored side by side: ours (shipped), the change-point experiment and its
    ruptures part alone when ruptures is installed, and the plain threshold."""
    found: dict[str, Callable[[tuple[Point, ...]], list[Span]]] = {
        "Ours": lambda points: ours(points, params)
    }
    if changepoints is not None:
        experiment = changepoints.ChangeParams()
        alone = replace(experiment, departures=0)
        found["Changes"] = lambda points: changes(points, experiment)
        found["Ruptures alone"] = lambda points: changes(points, alone)
    found["Threshold"] = threshold_baseline
    return found


def report(title: str, split: list[Labelled], params: AnomalyParams) -> None:
    """Per series and in total, one to one and with any overlap, and the hours inside."""
    found = methods(params)
    print(f"\n### {title}\n")
    print("| Series | " + " | ".join(f"{name} P | {name} R" for name in found) + " |")
    print("|---|" + "---:|---:|" * len(found))
    strict: dict[str, list[tuple[int, int, int, int]]] = {name: [] for name in found}
    anyhow: dict[str, list[tuple[int, int, int, int]]] = {name: [] for name in found}
    hours = dict.fromkeys([*found, "labelled"], 0.0)
    for item in split:
        cells = []
        for name, detect in found.items():
            spans = detect(item.points)
            one = score(spans, item.windows)
            strict[name].append(one)
            anyhow[name].append(loose(spans, item.windows))
            hours[name] += sum((b - a).total_seconds() for a, b in spans) / 3600
            cells.append(f"{one[0]}/{one[1]} | {one[2]}/{one[3]}")
        hours["labelled"] += sum((b - a).total_seconds() for a, b in item.windows) / 3600
        print(f"| {item.name} | " + " | ".join(cells) + " |")
    cells = [f"**{p:.2f}** | **{r:.2f}**" for p, r in (totals(strict[n]) for n in found)]
    print("| **total** | " + " | ".join(cells) + " |")
    print(
        "\nAny overlap counting (one detection may find several labels): "
        + ", ".join(
            f"{name} P {p:.2f} R {r:.2f}"
            for name, (p, r) in ((n, totals(anyhow[n])) for n in found)
        )
        + "."
    )
    print(
        "Hours inside windows: "
        + ", ".join(f"{name} {value:,.0f}" for name, value in hours.items())
        + "."
    )


FRESH = ("artificialWithAnomaly", "realAdExchange", "realTraffic", "realTweets")


def main() -> None:
    if not NAB.exists():
        print(f"bench/impact: {NAB} is missing; skipped")
        return
    began = time.perf_counter()
    series = load()
    # The series the tests check (tests/data/metrics) is never tuned on: always held out.
    rest = [s for s in series if s.name not in TESTED]
    dev = rest[0::2]
    held_out = [s for s in series if s not in dev]
    tuned = tune(dev) if "--tune" in sys.argv else AnomalyParams()
    print(
        f"# {dt.date.today()} · {platform.processor() or platform.machine()} · "
        f"Python {sys.version.split()[0]} · {len(series)} NAB series "
        f"({len(dev)} dev, {len(held_out)} held out)"
    )
    print(f"parameters: {tuned}")
    if tuned != AnomalyParams():
        print("note: the dev split's best differs from the defaults in analysis/impact.py")
    if changepoints is None:
        print("note: ruptures is not installed; the change-point experiment is left out")
    elif "--tune" in sys.argv:
        print(f"change-point experiment, dev split's best: {tune_changes(dev)}")
    if "--dev-only" not in sys.argv:
        report("Held-out split (the result)", held_out, tuned)
    report("Dev split (parameters chosen here)", dev, tuned)
    missing = [name for name in FRESH if not (NAB / "data" / name).exists()]
    if missing:
        print(f"\nNo fresh NAB split: {', '.join(missing)} are not in {NAB / 'data'}.")
    fresh = load_nezha()
    if fresh and "--dev-only" not in sys.argv:
        report("Fresh held-out: Nezha per-pod series, injected faults (another kind)", fresh, tuned)
    print(f"\n{time.perf_counter() - began:.1f} s")


if __name__ == "__main__":
    main()
