"""How well the root-cause ranking points at the real cause, beside a naive baseline.

1. Nezha (IntelligentDDS/Nezha, FSE'23): the 24 faults injected into OnlineBoutique on
   2022-08-22, whose per-pod metrics are in ../shared/data/rca/nezha-sample. Evidence per fault:
   for each pod and each of CPU usage and P90 latency (client and server), the first minute in
   the 15 minutes around the injection where the value lies more than Z standard deviations
   from the pod's previous 30 minutes, as a capacity/alert signal ("CPU usage of cartservice at
   88%, 4.2 sd above its previous 30 min"). The impact start is the injection time (what the
   postmortem would mark). A fault counts as found at rank k when a candidate among the first k
   names the faulty service and the root-cause indicator Nezha's own map gives for its fault
   type (construct_data/root_cause_hipster.json: CpuUsageRate(%) or NetworkP90(ms); faults whose
   indicator is a log pattern cannot be found from metrics and count as misses).
   A missing sample (NaN) is no signal. The ranking is scored with Nezha's service map
   (dependency.csv, for the spread factor) and without it (what Hindsight does today, holding
   no map). Baseline: the most recent signal first. The faults are split by time: the first
   half was looked at while writing this benchmark and its changes (`--dev-only` prints it
   alone), the second half is held out; both are reported, and no weight of
   analysis/candidates.py was changed after running it.
2. mybinder.org 2018-01-18 ("reddit hug"): the deploy repository's whole first-parent history
   (1,853 merges, 2017-2022) against the impact start (06:15 PST) and the mitigation (09:05 PST)
   of the published report; the merge #287 (ingress replicas five to ten) must rank first
   among the change candidates. Baseline: the most recent change before the impact start.

Run: .venv/bin/python bench/candidates/run.py [path to ../shared/data]
"""

from __future__ import annotations

import datetime as dt
import json
import math
import platform
import sys
from pathlib import Path

import polars as pl

from hindsight.analysis.candidates import (
    Evidence,
    most_recent_change_first,
    rank_candidates,
)
from hindsight.domain.evidence import Signal
from hindsight.domain.timeline import EventKind, TimelineEvent
from hindsight.importers.base import ImportOptions, NoProgress, Source
from hindsight.importers.registry import read_all

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
Z = 3.0
BEFORE, AFTER = dt.timedelta(minutes=5), dt.timedelta(minutes=10)
HISTORY = 30
DEV_ONLY = "--dev-only" in sys.argv
METRICS = {
    "CpuUsageRate(%)": ("CpuUsageRate(%)", "CPU usage", "%", 1.0),
    "PodClientLatencyP90(s)": ("NetworkP90(ms)", "client P90 latency", " ms", 1000.0),
    "PodServerLatencyP90(s)": ("NetworkP90(ms)", "server P90 latency", " ms", 1000.0),
}


def _pod_frames(folder: Path) -> dict[str, pl.DataFrame]:
    frames = {}
    for path in sorted(folder.glob("*_metric.csv")):
        service = path.name.rsplit("-", 2)[0]
        frame = pl.read_csv(path, infer_schema_length=0).select(
            pl.col("TimeStamp").cast(pl.Int64),
            *(pl.col(name).cast(pl.Float64, strict=False) for name in METRICS),
        )
        frames[service] = frame.sort("TimeStamp")
    return frames


def _signals(frames: dict[str, pl.DataFrame], at: dt.datetime) -> list[tuple[Evidence, str, str]]:
    """(evidence, service, indicator) for every metric out of its recent range near `at`."""
    found = []
    start, end = (at - BEFORE).timestamp(), (at + AFTER).timestamp()
    for service, frame in frames.items():
        for column, (indicator, label, unit, scale) in METRICS.items():
            values = frame.select("TimeStamp", column).drop_nulls()
            times, series = values["TimeStamp"].to_list(), values[column].to_list()
            for index, stamp in enumerate(times):
                if not start <= stamp <= end or index < HISTORY:
                    continue
                past = [v for v in series[index - HISTORY : index] if not math.isnan(v)]
                if math.isnan(series[index]) or len(past) < HISTORY // 2:
                    continue  # a missing sample is no signal (it was, as "nan sd", before)
                mean = sum(past) / len(past)
                spread = (sum((v - mean) ** 2 for v in past) / len(past)) ** 0.5 or 1e-9
                z = (series[index] - mean) / spread
                if abs(z) < Z:
                    continue
                when = dt.datetime.fromtimestamp(stamp, dt.UTC)
                text = (
                    f"{label} of {service} at {series[index] * scale:.0f}{unit}, "
                    f"{abs(z):.1f} sd {'above' if z > 0 else 'below'} its previous {HISTORY} min"
                )
                event = TimelineEvent(at=when, text=text, kind=EventKind.ALERT, source="metrics")
                subject = f"{label} {service}"
                found.append(
                    (
                        Evidence(
                            f"{service}/{column}", event, Signal.ALERT_FIRING, subject, service
                        ),
                        service,
                        indicator,
                    )
                )
                break
    return found


def _service_map(folder: Path, services: set[str]) -> dict[str, list[str]]:
    """Which service calls which (Nezha's dependency.csv, addresses left out)."""
    calls: dict[str, list[str]] = {}
    for row in pl.read_csv(folder / "dependency.csv").iter_rows(named=True):
        if row["Source"] in services and row["Target"] in services:
            calls.setdefault(row["Source"], []).append(row["Target"])
    return calls


def _rank_of(order: list[str], truth: tuple[str, str], meaning: dict[str, tuple[str, str]]) -> int:
    for rank, ref in enumerate(order, start=1):
        if meaning[ref] == truth:
            return rank
    return 0


def nezha(shared: Path) -> list[str]:
    base = shared / "rca" / "nezha-sample"
    day = base / "rca_data" / "2022-08-22"
    faults = [
        item
        for group in json.loads((day / "2022-08-22-fault_list.json").read_text()).values()
        for item in group
    ]
    faults.sort(key=lambda item: int(item["inject_timestamp"]))
    causes = json.loads((base / "construct_data" / "root_cause_hipster.json").read_text())
    frames = _pod_frames(day / "metric")
    calls = _service_map(day / "metric", set(frames))
    results = []
    for fault in faults:
        at = dt.datetime.fromtimestamp(int(fault["inject_timestamp"]), dt.UTC)
        service = fault["inject_pod"].rsplit("-", 2)[0]
        truth = (service, causes.get(service, {}).get(fault["inject_type"], "?"))
        signals = _signals(frames, at)
        meaning = {e.ref: (s, i) for e, s, i in signals}
        evidence = [e for e, _s, _i in signals]
        with_map = [c.ref for c in rank_candidates(evidence, impact_start=at, calls=calls)]
        without = [c.ref for c in rank_candidates(evidence, impact_start=at)]
        recent = [
            e.ref
            for e, _s, _i in sorted(signals, key=lambda x: x[0].event.at, reverse=True)
            if e.event.at <= at + AFTER
        ]
        ranks = tuple(_rank_of(order, truth, meaning) for order in (with_map, without, recent))
        results.append((fault, truth, ranks, len(signals)))
    half = len(results) // 2
    parts = [("development (first half)", results[:half])]
    if not DEV_ONLY:
        parts += [("**held out (second half)**", results[half:]), ("all", results)]
    lines = [
        "| Faults | n | ranking top-1 | top-3 | without the service map top-1 | top-3 | "
        "baseline top-1 | top-3 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, part in parts:

        def share(k: int, column: int, part: list = part) -> str:  # type: ignore[type-arg]
            hits = sum(1 for r in part if 0 < r[2][column] <= k)
            return f"{hits}/{len(part)} ({hits / len(part):.0%})"

        cells = " | ".join(f"{share(1, c)} | {share(3, c)}" for c in range(3))
        lines.append(f"| {name} | {len(part)} | {cells} |")
    lines.append("")
    lines.append(
        "| Injected at (UTC) | Service | Fault | Indicator | Signals | Rank | Without map | "
        "Baseline |"
    )
    lines.append("|---|---|---|---|---:|---:|---:|---:|")
    for fault, truth, ranks, count in results if not DEV_ONLY else results[:half]:
        shown = " | ".join(str(r or "—") for r in ranks)
        lines.append(
            f"| {fault['inject_time']} | {truth[0]} | {fault['inject_type']} | "
            f"{truth[1]} | {count} | {shown} |"
        )
    return lines


def mybinder(shared: Path) -> list[str]:
    path = shared / "formats" / "git" / "mybinder.org-deploy.first-parent.2017-2022.jsonl"
    found = read_all("git", Source.open(path), ImportOptions(), NoProgress())
    evidence = [Evidence(f"git:{n}", e.event, e.signal, e.subject) for n, e in enumerate(found)]
    pst = dt.timezone(dt.timedelta(hours=-8))
    start = dt.datetime(2018, 1, 18, 6, 15, tzinfo=pst)
    ranked = rank_candidates(
        evidence, impact_start=start, impact_end=dt.datetime(2018, 1, 18, 9, 5, tzinfo=pst)
    )
    baseline = most_recent_change_first(evidence, impact_start=start)
    rank = next((n for n, c in enumerate(ranked, 1) if "#287" in c.event.text), 0)
    base_rank = next((n for n, c in enumerate(baseline, 1) if "#287" in c.event.text), 0)
    return [
        f"- {len(evidence):,} merges; #287 ranks **{rank or 'absent'}** "
        f"(top: {ranked[0].event.text[:60]!r}, {ranked[0].explanation})",
        f"- baseline (most recent change before the impact start): #287 ranks "
        f"{base_rank or 'absent (it came after the impact start)'}; its top is "
        f"{baseline[0].event.text[:60]!r}",
    ]


def main(shared: Path = SHARED) -> None:
    print(
        f"## Root-cause candidates · {dt.date.today()} · "
        f"{platform.processor() or platform.machine()} · Python {sys.version.split()[0]}"
    )
    print("\n### Nezha OnlineBoutique 2022-08-22 (24 injected faults)\n")
    print("\n".join(nezha(shared)))
    print("\n### mybinder.org 2018-01-18\n")
    print("\n".join(mybinder(shared)))


if __name__ == "__main__":
    paths = [a for a in sys.argv[1:] if not a.startswith("--")]
    main(Path(paths[0]) if paths else SHARED)
