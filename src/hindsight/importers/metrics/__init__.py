"""Metric series: CSV or JSON samples, a saved Prometheus `query_range` response, or a live one
(`prometheus.py`).

- CSV with a header: `timestamp` (also `time`, `at`, `date`) and `value`; every other column is
  a label, and rows with different labels are different series. Times are ISO 8601 (--tz for
  those without a zone) or Unix seconds.
- JSON: an array (or JSON Lines) of `{"timestamp": …, "value": …, "labels": {…}}`, or a saved
  Prometheus response (`{"status": "success", "data": {"resultType": "matrix", …}}`, as
  `curl …/api/v1/query_range` writes it).
Series are bounded: a file may hold MAX_SERIES series and MAX_SAMPLES samples in all, and a
series longer than MAX_STORED_POINTS is downsampled into that many buckets, keeping each
bucket's worst sample (the highest; the lowest for a 'good' series), so a short spike survives.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from hindsight.importers.base import (
    EvidenceError,
    ImportOptions,
    Progress,
    Record,
    Source,
    SourceFile,
    epoch,
    parse_time,
)
from hindsight.importers.json_documents import iter_documents

KIND = "metrics"
TITLE = "Metric series"
ACCEPTS = (
    "CSV (timestamp,value[,label…]), JSON samples, a saved Prometheus query_range response, "
    "or a live Prometheus server"
)
MAX_SERIES = 20
MAX_SAMPLES = 1_000_000
MAX_STORED_POINTS = 11_000  # Prometheus' own limit per series: a live import is kept whole
TIME_NAMES = ("timestamp", "time", "at", "date", "datetime")
Point = tuple[dt.datetime, float]


@dataclass(frozen=True)
class SeriesData:
    """One series read from a source: its name (a query or a file's metric), labels, samples."""

    name: str
    labels: tuple[tuple[str, str], ...]
    points: tuple[Point, ...]
    origin: str
    raw_count: int

    @property
    def label_text(self) -> str:
        """'{code="500",job="api"}' ('' without labels)."""
        if not self.labels:
            return ""
        return "{" + ",".join(f'{k}="{v}"' for k, v in self.labels) + "}"


def downsample(points: list[Point], limit: int, keep_low: bool = False) -> list[Point]:
    """At most `limit` points: the series cut into `limit` equal runs of samples, each kept as
    its worst sample (highest, or lowest with `keep_low`) at the time of the run's first."""
    if len(points) <= limit:
        return points
    size = math.ceil(len(points) / limit)
    pick = min if keep_low else max
    return [
        (points[i][0], pick(value for _at, value in points[i : i + size]))
        for i in range(0, len(points), size)
    ]


class _Collector:
    """Samples grouped into series, with the file's limits checked as they arrive."""

    def __init__(self, name: str, origin: str) -> None:
        self.name, self.origin = name, origin
        self.series: dict[tuple[tuple[str, str], ...], list[Point]] = {}
        self.count = 0

    def add(self, labels: tuple[tuple[str, str], ...], at: dt.datetime, value: float) -> None:
        if labels not in self.series and len(self.series) >= MAX_SERIES:
            raise EvidenceError(
                self.origin,
                f"more than {MAX_SERIES} series (label sets); import fewer at a time, or drop "
                "the label columns that split them",
            )
        self.count += 1
        if self.count > MAX_SAMPLES:
            raise EvidenceError(
                self.origin,
                f"more than {MAX_SAMPLES:,} samples; narrow the time range or use a coarser step",
            )
        self.series.setdefault(labels, []).append((at, value))

    def result(self, keep_low: bool) -> list[SeriesData]:
        if not self.series:
            raise EvidenceError(self.origin, "no samples found")
        found = []
        for labels, points in self.series.items():
            points.sort(key=lambda point: point[0])
            found.append(
                SeriesData(
                    self.name,
                    labels,
                    tuple(downsample(points, MAX_STORED_POINTS, keep_low)),
                    self.origin,
                    len(points),
                )
            )
        return found


def _number(raw: Any, fail: Any, name: str) -> float:
    if isinstance(raw, bool) or raw is None or raw == "":
        raise fail(f"field '{name}': {raw!r} is not a number")
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise fail(f"field '{name}': {str(raw)[:40]!r} is not a number") from None
    if math.isnan(value) or math.isinf(value):
        raise fail(f"field '{name}': {raw!r} is not a finite number")
    return value


def _time(raw: Any, zone: dt.tzinfo, fail: Any, name: str) -> dt.datetime:
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return epoch(float(raw), fail, name)
    if isinstance(raw, str):
        text = raw.strip()
        try:
            seconds = float(text)
        except ValueError:
            return parse_time(text, zone, fail, name)
        return epoch(seconds, fail, name)
    raise fail(f"field '{name}': {raw!r} is not a time")


def read_series(
    source: Source, options: ImportOptions, progress: Progress, name: str = ""
) -> list[SeriesData]:
    """Every series in `source` (one file), named `name` or after the file."""
    if len(source.files) != 1:
        raise EvidenceError(source.name, "give one file of metric samples at a time")
    item = source.files[0]
    metric = name or item.path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    collector = _Collector(metric, item.name)
    if item.path.lower().endswith(".csv"):
        _read_csv(item, options, progress, collector)
    else:
        prometheus = _read_json(item, options, progress, collector)
        if prometheus is not None:
            return prometheus
    return collector.result(keep_low=False)


def _csv_rows(reader: Any, name: str) -> Iterator[list[str]]:
    """The reader's rows; a line the csv module cannot parse is our error, with its line."""
    while True:
        try:
            row: list[str] = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise EvidenceError(
                name,
                f"not valid CSV ({error}); quote a field that holds a line break",
                line=reader.line_num,
            ) from None
        yield row


def _read_csv(
    item: SourceFile, options: ImportOptions, progress: Progress, out: _Collector
) -> None:
    lines = (text + "\n" for _n, text in item.lines(progress))
    reader = csv.reader(lines)
    rows = _csv_rows(reader, item.name)
    header = next(rows, None)
    if header is None:
        raise EvidenceError(item.name, "the file is empty; expected a header line")
    names = [column.strip().lstrip("\ufeff").lower() for column in header]
    time_column = next((names.index(n) for n in TIME_NAMES if n in names), None)
    if time_column is None or "value" not in names:
        raise EvidenceError(
            item.name,
            f"the header must name a time column ({', '.join(TIME_NAMES)}) and a 'value' "
            f"column; found {', '.join(header)[:200]}",
            line=1,
        )
    value_column = names.index("value")
    labels = [
        (i, header[i].strip()) for i in range(len(names)) if i not in (time_column, value_column)
    ]
    for row in rows:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue

        def fail(reason: str, line: int = line) -> EvidenceError:
            return EvidenceError(item.name, reason, line=line)

        if len(row) != len(header):
            raise fail(f"{len(row)} fields where the header has {len(header)}")
        at = _time(row[time_column], options.tzinfo, fail, header[time_column].strip())
        value = _number(row[value_column], fail, "value")
        if options.in_window(at):
            out.add(tuple((label, row[i].strip()) for i, label in labels), at, value)


def _read_json(
    item: SourceFile, options: ImportOptions, progress: Progress, out: _Collector
) -> list[SeriesData] | None:
    for line, locator, document in iter_documents(item, progress):
        where = Record(item.name, f"line {line}" if line else locator, document)
        if isinstance(document, dict) and "status" in document and "data" in document:
            return prometheus_series(item.name, document, options, out.name)
        if not isinstance(document, dict):
            raise where.fail(
                "expected an object with 'timestamp' and 'value' (or a Prometheus response)"
            )
        time_key = next((n for n in TIME_NAMES if n in document), "timestamp")
        at = _time(document.get(time_key), options.tzinfo, where.fail, time_key)
        value = _number(where.get("value", (int, float, str)), where.fail, "value")
        labels = document.get("labels") or {}
        if not isinstance(labels, dict):
            raise where.fail("field 'labels' should be an object of name: value")
        if options.in_window(at):
            out.add(tuple(sorted((str(k), str(v)) for k, v in labels.items())), at, value)
    return None


def prometheus_series(
    origin: str, document: Any, options: ImportOptions, name: str
) -> list[SeriesData]:
    """The series of a Prometheus HTTP API response (matrix or vector), or its error."""
    where = Record(origin, "response", document)
    status = where.get("status", str)
    if status != "success":
        kind = document.get("errorType", "error")
        raise where.fail(f"Prometheus answered {kind}: {document.get('error', status)}")
    data = Record(origin, "data", where.get("data", dict))
    kind = data.get("resultType", str)
    if kind not in ("matrix", "vector"):
        raise data.fail(f"resultType '{kind}' holds no series; give a range query (matrix)")
    results = data.get("result", list)
    if not results:
        raise data.fail("the query returned no series; check the query and the time range")
    if len(results) > MAX_SERIES:
        raise data.fail(
            f"the query returned {len(results)} series, more than {MAX_SERIES}; aggregate it "
            "(sum by (...)) or narrow the label matchers"
        )
    found = [
        _prometheus_entry(origin, index, raw, options, name) for index, raw in enumerate(results)
    ]
    if sum(len(series.points) for series in found) > MAX_SAMPLES:
        raise data.fail(f"more than {MAX_SAMPLES:,} samples; use a coarser step")
    if not any(series.points for series in found):
        raise data.fail("the series hold no samples in the time window")
    return [series for series in found if series.points]


def _prometheus_entry(
    origin: str, index: int, raw: Any, options: ImportOptions, name: str
) -> SeriesData:
    entry = Record(origin, f"data.result[{index}]", raw)
    metric = entry.get("metric", dict, required=False) or {}
    samples = entry.get("values", list, required=False)
    if samples is None:
        samples = [entry.get("value", list)]
    if len(samples) > MAX_SAMPLES:
        raise entry.fail(f"more than {MAX_SAMPLES:,} samples; use a coarser step")
    points = []
    for position, sample in enumerate(samples):
        cell = Record(origin, f"data.result[{index}].values[{position}]", sample)
        if not isinstance(sample, list) or len(sample) != 2:
            raise cell.fail('a sample should be [unix time, "value"]')
        at = _time(sample[0], dt.UTC, cell.fail, "time")
        value = _number(sample[1], cell.fail, "value")
        if options.in_window(at):
            points.append((at, value))
    labels = tuple(sorted((str(k), str(v)) for k, v in metric.items() if k != "__name__"))
    return SeriesData(
        str(metric.get("__name__", "")) or name,
        labels,
        tuple(downsample(points, MAX_STORED_POINTS)),
        origin,
        len(points),
    )
