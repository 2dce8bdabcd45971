"""Log files collapsed into a few meaningful events by log-template mining.

Millions of lines become at most `MAX_EVENTS_PER_FILE` events: for each template (a line shape
with its variables masked), its first appearance when it was never seen in the baseline
window, bursts of error lines, and the last occurrence of an error template. The file is read
in chunks of `CHUNK_BYTES`; each chunk is parsed, masked and counted per template and minute
with polars, so memory depends on the number of templates and minutes, not on the file size.

Formats: plain text whose lines start with a time (ISO 8601 with an offset or a zone name such
as PostgreSQL's `UTC`, syslog, Apache, HDFS, Spark, redis, nats, apt history, Unix seconds, or
`--timestamp-format`), and JSON Lines with a time field (`--timestamp-field`, else `timestamp`,
`time`, `@timestamp`, `ts`, `date`, journald's `__REALTIME_TIMESTAMP`), numbers being Unix
seconds, milliseconds, microseconds or nanoseconds by their size. Lines without a time belong to
the line before.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import polars as pl

from hindsight.domain.evidence import Evidence, provenance
from hindsight.domain.timeline import EventKind, TimelineEvent
from hindsight.importers.base import (
    EvidenceError,
    ImportOptions,
    Progress,
    Source,
    SourceFile,
)
from hindsight.importers.logs.findings import findings
from hindsight.importers.logs.formats import (
    FORMATS,
    LogFormat,
    custom_format,
    detect,
    local_to_utc,
)
from hindsight.importers.logs.mining import MASK_PATTERN, PARAM, TemplateMiner

# Measured in bench/ingest (10M lines): 8 MB chunks run ~10% faster but peak ~70 MB higher.
CHUNK_BYTES = 4 * 1024 * 1024
WORKERS = 2
BATCH = 4
_LEVEL = re.compile(
    r"^[\[<]?(?:TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|ERR|CRIT|CRITICAL|"
    r"FATAL|SEVERE|EMERG|ALERT|Info|Warning|Error|[VDIWEF])[\]>]?:?\s+"
)
MAX_EVENTS_PER_FILE = 40
MAX_KNOWN_SHAPES = 200_000
ERROR_WORDS = (
    r"(?i)\b(error|errors|fatal|critical|crit|severe|emerg|exception|panic|"
    r"fail|failed|failure|refused|timeout|timed out|unavailable|denied)\b"
)
# __REALTIME_TIMESTAMP and MESSAGE are journald's (`journalctl -o json`).
JSON_TIME_FIELDS = ("timestamp", "time", "@timestamp", "ts", "date", "__REALTIME_TIMESTAMP")
JSON_TEXT_FIELDS = ("message", "msg", "log", "text", "event", "MESSAGE")
EARLIEST = dt.datetime(1970, 1, 2)
LATEST = dt.datetime(2199, 12, 30)


@dataclass
class _Chunks:
    """Reads a file in chunks of whole lines, numbering them."""

    item: SourceFile
    progress: Progress

    def __iter__(self) -> Iterator[tuple[int, bytes]]:
        first_line = 1
        rest = b""
        with self.item.open(self.progress) as handle:
            while True:
                block = handle.read(CHUNK_BYTES)
                data = rest + block
                if not data:
                    return
                if block:
                    cut = data.rfind(b"\n") + 1
                    if cut == 0:
                        if len(data) > 4 * CHUNK_BYTES:
                            raise EvidenceError(
                                self.item.name,
                                "a line longer than 32 MB; is this a log file?",
                                line=first_line,
                            )
                        rest = data
                        continue
                    data, rest = data[:cut], data[cut:]
                else:
                    rest = b""
                yield first_line, data
                first_line += data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
                if not block:
                    return


def _sample(item: SourceFile) -> list[str]:
    with item.opener() as handle:
        head = handle.read(64 * 1024)
    if b"\x00" in head:
        raise EvidenceError(item.name, "this is a binary file, not a text log", line=1)
    text = head.decode("utf-8", errors="replace")
    return text.splitlines()[:200]


class _Shapes:
    """Masked line → template id, learning new shapes in the order they first appear."""

    def __init__(self) -> None:
        self.miner = TemplateMiner()
        self.known = pl.DataFrame(schema={"masked": pl.String, "template": pl.Int64})

    def essence(self, shape: str) -> str:
        """What Drain should see of a masked line: no leading level word."""
        return _LEVEL.sub("", shape, count=1)

    def assign(self, counts: pl.DataFrame) -> pl.DataFrame:
        new = (
            counts.join(self.known, on="masked", how="anti")
            .group_by("masked")
            .agg(pl.col("first_line").min())
            .sort("first_line")
        )
        if new.height:
            # The level word leads most lines and tells nothing about the shape; Drain's tree
            # branches on the first tokens, so it clusters (and runs) better without it.
            masked = new["masked"].to_list()
            ids = [self.miner.add(self.essence(shape)) for shape in masked]
            self.known = pl.concat(
                [
                    self.known,
                    pl.DataFrame(
                        {
                            "masked": pl.Series(masked, dtype=pl.String),
                            "template": pl.Series(ids, dtype=pl.Int64),
                        }
                    ),
                ]
            )
            if self.known.height > MAX_KNOWN_SHAPES:  # a cache: forget the older half
                self.known = self.known.tail(MAX_KNOWN_SHAPES // 2)
        return counts.join(self.known, on="masked", how="inner")


def _frame(data: bytes, first_line: int) -> pl.DataFrame:
    frame = pl.read_csv(
        data,
        has_header=False,
        separator="\x1f",
        quote_char=None,
        schema={"line": pl.String},
        encoding="utf8-lossy",
        truncate_ragged_lines=True,
        eol_char="\n",
    )
    return frame.with_row_index("no", offset=first_line).with_columns(
        pl.col("line").fill_null("").str.strip_chars_end("\r")
    )


class _File:
    """One log file being summarised."""

    def __init__(self, item: SourceFile, options: ImportOptions, progress: Progress) -> None:
        self.item, self.options, self.progress = item, options, progress
        self.shapes = _Shapes()
        self.local = local_to_utc(options.zone)
        anchor = options.since or options.until or dt.datetime.now(dt.UTC)
        self.year = options.year or anchor.year
        sample = _sample(item)
        self.json = (
            sum(1 for line in sample if line.lstrip().startswith("{")) * 2
            > len([line for line in sample if line.strip()])
            > 0
        )
        self.format: LogFormat | None = None
        if not self.json:
            if options.timestamp_format:
                try:
                    self.format = custom_format(options.timestamp_format)
                except ValueError as error:
                    raise EvidenceError(item.name, str(error)) from None
            else:
                self.format = detect(sample)
            if self.format is None:
                raise EvidenceError(
                    item.name,
                    "no known timestamp at the start of the first lines; give the format with "
                    "--timestamp-format (for example '%d/%m/%Y %H:%M:%S')",
                    line=1,
                )

    def parsed(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Each line's time (UTC) and its masked shape; only the columns still needed."""
        line = pl.col("line")
        text = line
        raw = line.str.slice(0, 40)
        if self.json:
            time_field = self.options.timestamp_field
            names = (time_field,) if time_field else JSON_TIME_FIELDS
            raw_time = pl.coalesce([line.str.json_path_match(_path(name)) for name in names])
            text = pl.coalesce(
                [line.str.json_path_match(_path(name)) for name in JSON_TEXT_FIELDS] + [line]
            )
            raw = raw_time
            at = (
                pl.when(raw_time.cast(pl.Float64, strict=False).is_not_null())
                .then(_epoch_ms(raw_time).cast(pl.Datetime("ms")))
                .otherwise(FORMATS[0].to_datetime(raw_time, self.year, self.local))
            )
        else:
            assert self.format is not None
            if self.format.name == "custom":
                at = self.format.to_datetime(line, self.year, self.local)
            else:
                # Only the start of the line is matched (time and the blanks after it); the
                # time is that match without brackets (access logs have more before it).
                frame = frame.with_columns(
                    prefix=line.str.extract(
                        "(" + self.format.pattern.replace("?P<ts>", "?:") + r"\s*)", 1
                    )
                )
                prefix = pl.col("prefix")
                stamp = (
                    prefix.str.extract(self.format.pattern, 1)
                    if self.format.name == "clf" or self.format.inside
                    else prefix.str.strip_chars(" \t[]")
                )
                at = self.format.to_datetime(stamp, self.year, self.local)
                raw = stamp
                text = line.str.slice(prefix.str.len_chars().fill_null(0))
        masked = text.str.replace_all(MASK_PATTERN, PARAM).str.slice(0, 500)
        return frame.select(
            "no", at.alias("at"), masked.alias("masked"), text.alias("rest"), raw.alias("raw")
        )

    def check_range(self, frame: pl.DataFrame) -> None:
        """Refuse, with its line, a time outside 1970-2199 (a misread unit, a zero date):
        Python could not even hold some of them ('year 47799 is out of range')."""
        wrong = frame.filter((pl.col("at") < EARLIEST) | (pl.col("at") > LATEST)).head(1)
        if wrong.height:
            raw = str(wrong["raw"][0] or "")[:40]
            raise EvidenceError(
                self.item.name,
                f"the time {raw!r} is outside 1970-2199; numbers are read as Unix seconds, "
                "milliseconds, microseconds or nanoseconds by their size; give the field with "
                "--timestamp-field or the format with --timestamp-format",
                line=int(wrong["no"][0]),
            )

    def chunk_counts(
        self, first_line: int, data: bytes
    ) -> tuple[pl.DataFrame, pl.DataFrame, int, int]:
        """One chunk, counted: (per masked shape, error lines per shape and minute, lines,
        lines with a time).

        Runs in a worker thread (polars releases the GIL). Lines before the chunk's first
        time come back without a time; `counts` gives them the previous chunk's last time.
        """
        frame = _frame(data, first_line)
        lines = frame.height
        frame = self.parsed(frame.filter(pl.col("line").str.len_bytes() > 0))
        self.check_range(frame)
        frame = frame.drop("raw")
        timed = int(frame["at"].is_not_null().sum())
        frame = frame.with_columns(pl.col("at").forward_fill())
        per_minute = frame.group_by("masked", pl.col("at").dt.truncate("1m").alias("minute")).agg(
            n=pl.len(),
            first=pl.col("at").min(),
            last=pl.col("at").max(),
            first_line=pl.col("no").min(),
            sample=pl.col("rest").first(),
        )
        # Error words survive masking, so the distinct shapes are enough to look at.
        per_minute = per_minute.with_columns(
            errors=pl.when(pl.col("masked").str.contains(ERROR_WORDS))
            .then(pl.col("n"))
            .otherwise(0)
        )
        errors = per_minute.filter(pl.col("errors") > 0).select("masked", "minute", "errors")
        return _collapse(per_minute), errors, lines, timed

    def chunk_results(self) -> Iterator[tuple[pl.DataFrame, pl.DataFrame, int, int]]:
        """`chunk_counts` of every chunk, in file order, with WORKERS chunks in flight."""
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            pending: deque[Future[tuple[pl.DataFrame, pl.DataFrame, int, int]]] = deque()
            chunks = iter(_Chunks(self.item, self.progress))
            while True:
                while len(pending) < WORKERS:
                    chunk = next(chunks, None)
                    if chunk is None:
                        break
                    pending.append(pool.submit(self.chunk_counts, *chunk))
                if not pending:
                    return
                yield pending.popleft().result()

    def counts(self) -> tuple[pl.DataFrame, pl.DataFrame]:
        """Per template: a summary, and error lines per minute, over the whole file.

        Shapes repeat from chunk to chunk, so chunks are gathered BATCH at a time and their
        shapes collapsed before templates are looked up (one join per batch, not per chunk).
        """
        shapes: list[pl.DataFrame] = []
        errors: list[pl.DataFrame] = []
        summaries: list[pl.DataFrame] = []
        error_minutes: list[pl.DataFrame] = []
        last_time: dt.datetime | None = None
        timed = lines = 0
        for chunk_shapes, chunk_errors, chunk_lines, chunk_timed in self.chunk_results():
            lines += chunk_lines
            timed += chunk_timed
            if last_time is not None and chunk_shapes["first"].null_count():
                chunk_shapes = chunk_shapes.with_columns(
                    pl.col("first").fill_null(pl.lit(last_time)),
                    pl.col("last").fill_null(pl.lit(last_time)),
                )
                chunk_errors = chunk_errors.with_columns(
                    pl.col("minute").fill_null(pl.lit(last_time).dt.truncate("1m"))
                )
            newest = chunk_shapes["last"].max()
            last_time = newest if isinstance(newest, dt.datetime) else last_time
            shapes.append(chunk_shapes.drop_nulls("first"))
            errors.append(chunk_errors.drop_nulls("minute"))
            if len(shapes) >= BATCH:
                summary, minutes = self.by_template(shapes, errors)
                summaries.append(summary)
                error_minutes.append(minutes)
                shapes, errors = [], []
        if shapes:
            summary, minutes = self.by_template(shapes, errors)
            summaries.append(summary)
            error_minutes.append(minutes)
        if lines and not timed:
            raise EvidenceError(
                self.item.name,
                "no line has a time this importer can read; "
                "give --timestamp-format or --timestamp-field",
                line=1,
            )
        if not summaries:
            raise EvidenceError(self.item.name, "the file is empty")
        self.lines = lines
        return _summaries(summaries), _error_minutes(error_minutes)

    def by_template(
        self, shapes: list[pl.DataFrame], errors: list[pl.DataFrame]
    ) -> tuple[pl.DataFrame, pl.DataFrame]:
        """Some chunks' shapes → a summary per template, and error lines per template and
        minute (only where there are errors: the rest needs no minute-by-minute detail)."""
        assigned = self.shapes.assign(_collapse(pl.concat(shapes)))
        templates = assigned.select("masked", "template")
        minutes = pl.concat(errors).join(templates, on="masked", how="inner")
        summary = _summaries([assigned])
        return summary.with_columns(_owned(summary["sample"])), _error_minutes([minutes])


def _epoch_ms(raw: pl.Expr) -> pl.Expr:
    """A Unix time in seconds, milliseconds, microseconds (journald) or nanoseconds, told
    apart by its size, as integer milliseconds (the years 1973 to 5138 in seconds)."""
    value = raw.cast(pl.Float64, strict=False)
    return (
        pl.when(value >= 1e17)
        .then(value / 1e6)
        .when(value >= 1e14)
        .then(value / 1e3)
        .when(value >= 1e11)
        .then(value)
        .otherwise(value * 1000)
        .cast(pl.Int64)
    )


def _path(field: str) -> str:
    """A JSONPath to a top-level field, whatever characters its name holds."""
    return "$['" + field.replace("\\", "\\\\").replace("'", "\\'") + "']"


def _owned(values: pl.Series) -> pl.Series:
    """A copy of a string column with buffers of its own. Polars' string views share the
    buffer of the column they were taken from, so keeping a few strings of a chunk would keep
    the whole chunk's text alive (measured: 1 GB at 10M lines)."""
    return pl.Series(values.name, values.to_list(), dtype=pl.String)


def _totals(frame: pl.DataFrame, by: str) -> pl.DataFrame:
    """One row per `by` (a masked shape, or a template): counts summed, first/last times,
    first line and its sample."""
    return frame.group_by(by).agg(
        pl.col("n").sum(),
        pl.col("errors").sum(),
        pl.col("first").min(),
        pl.col("last").max(),
        pl.col("first_line").min(),
        pl.col("sample").sort_by("first_line").first(),
    )


def _collapse(frame: pl.DataFrame) -> pl.DataFrame:
    """One row per masked shape."""
    return _totals(frame, "masked")


def _summaries(parts: list[pl.DataFrame]) -> pl.DataFrame:
    """One row per template."""
    return _totals(pl.concat(parts), "template")


def _error_minutes(parts: list[pl.DataFrame]) -> pl.DataFrame:
    return (
        pl.concat(parts)
        .filter(pl.col("errors") > 0)
        .group_by("template", "minute")
        .agg(pl.col("errors").sum())
    )


class LogsImporter:
    """A few meaningful events from log files of any size."""

    kind = "logs"
    title = "Log files"
    icon = "📜"
    accepts = (
        "plain-text logs whose lines start with a time (ISO 8601, syslog, Apache…) or "
        "JSON Lines with a time field; any size"
    )

    def read(
        self, source: Source, options: ImportOptions, progress: Progress
    ) -> Iterator[Evidence]:
        """Yield the notable events of each file, most notable first."""
        for item in source.files:
            file = _File(item, options, progress)
            found = [
                f
                for f in findings(*file.counts(), options, file.shapes.miner.template)
                if options.in_window(f.at)
            ]
            found.sort(key=lambda f: (-f.rank, f.at, f.line, f.key))
            if len(found) > MAX_EVENTS_PER_FILE:
                options.skip(
                    "log patterns beyond the most notable", len(found) - MAX_EVENTS_PER_FILE
                )
            options.skip("log lines summarised into patterns", file.lines)
            for finding in found[:MAX_EVENTS_PER_FILE]:
                yield Evidence(
                    event=TimelineEvent(
                        at=finding.at,
                        zone=options.zone,
                        text=finding.text,
                        source="logs",
                        kind=EventKind.LOG,
                        provenance=(provenance(item.name, f"line {finding.line}"),),
                    ),
                    key=f"{item.path}/{finding.key}",
                    subject=finding.subject[:80],
                    signal=finding.signal,
                )


IMPORTER = LogsImporter()
