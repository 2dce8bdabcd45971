"""What is worth a timeline row in a log file: new line shapes after the baseline, bursts of
error lines, and the last occurrence of an error shape. Pure functions over the per-template
counts that `logs.counts` produces."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import polars as pl

from hindsight.domain.evidence import Signal
from hindsight.domain.text import tidy
from hindsight.importers.base import ImportOptions

BURST_MIN_LINES = 20
BURST_FACTOR = 5.0


@dataclass(frozen=True)
class Found:
    at: dt.datetime
    text: str
    line: int
    key: str
    signal: Signal
    rank: float
    subject: str


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


def findings(
    summary: pl.DataFrame,
    errors: pl.DataFrame,
    options: ImportOptions,
    template_text: Callable[[int], str],
) -> list[Found]:
    """What is worth a timeline row: new shapes after the baseline, error bursts, last errors."""
    start = _utc(summary["first"].min())  # type: ignore[arg-type]
    end = _utc(summary["last"].max())  # type: ignore[arg-type]
    baseline_end = options.since or start + dt.timedelta(minutes=options.baseline_minutes)
    if options.since is None and end < baseline_end:
        # The whole file is shorter than the baseline (a 4-line log, a few minutes of a
        # service): nothing to compare with, so every pattern is new from its first line.
        baseline_end = start
    found: list[Found] = []
    minutes = (
        errors.sort("template", "minute")
        .group_by("template", maintain_order=True)
        .agg(pl.col("minute"), pl.col("errors").alias("errors_per_minute"))
    )
    per_template = (
        summary.rename({"n": "total", "errors": "error_total"})
        .join(minutes, on="template", how="left")
        .sort("template")
    )
    for row in per_template.iter_rows(named=True):
        template = tidy(template_text(row["template"]), limit=300, one_line=True)
        key = hashlib.sha1(template.encode()).hexdigest()[:12]
        erroneous = row["error_total"] * 2 >= row["total"]
        first, last = _utc(row["first"]), _utc(row["last"])
        sample = tidy(str(row["sample"] or ""), limit=300, one_line=True)
        count = f"{row['total']:,} line{'s' if row['total'] != 1 else ''}"
        if first >= baseline_end:
            label = "New error log pattern" if erroneous else "New log pattern"
            found.append(
                Found(
                    first,
                    f"{label}: {template} — first line: {sample} ({count}, "
                    f"last at {last:%H:%M:%S} UTC)",
                    row["first_line"],
                    f"{key}/new",
                    Signal.ERRORS_STARTED if erroneous else Signal.NEW_LOG_PATTERN,
                    3 if erroneous else 1,
                    template,
                )
            )
        if erroneous:
            found.extend(_bursts(row, template, key, baseline_end, start))
            if last < end - dt.timedelta(minutes=1):
                found.append(
                    Found(
                        last,
                        f"Last error of this pattern: {template} ({count} in all)",
                        row["first_line"],
                        f"{key}/last",
                        Signal.ERRORS_STOPPED,
                        2,
                        template,
                    )
                )
    return found


def _bursts(
    row: dict[str, object], template: str, key: str, baseline_end: dt.datetime, start: dt.datetime
) -> Iterator[Found]:
    minutes = [_utc(m) for m in row["minute"] or []]  # type: ignore[attr-defined]
    counts = list(row["errors_per_minute"] or [])  # type: ignore[call-overload]
    span = max((baseline_end - start).total_seconds() / 60, 1)
    baseline_rate = sum(c for m, c in zip(minutes, counts, strict=True) if m < baseline_end) / span
    threshold = max(BURST_MIN_LINES, BURST_FACTOR * baseline_rate)
    run: list[tuple[dt.datetime, int]] = []
    for minute, count in [*zip(minutes, counts, strict=True), (None, 0)]:
        adjacent = minute is not None and run and minute - run[-1][0] <= dt.timedelta(minutes=1)
        if minute is not None and count >= threshold and (not run or adjacent):
            run.append((minute, count))
            continue
        if run:
            total = sum(c for _, c in run)
            peak = max(c for _, c in run)
            yield Found(
                run[0][0],
                f"Error burst: {total:,} lines of '{template}' in "
                f"{len(run)} min (peak {peak:,}/min)",
                int(row["first_line"]),  # type: ignore[call-overload]
                f"{key}/burst/{run[0][0]:%Y%m%d%H%M}",
                Signal.ERRORS_STARTED,
                4 + total / 1e6,
                template,
            )
            run = []
        if minute is not None and count >= threshold:
            run = [(minute, count)]
