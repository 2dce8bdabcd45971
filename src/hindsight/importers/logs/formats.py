"""Timestamp formats of log lines, recognised from a file's first lines and parsed in bulk.

Each format is a regular expression whose `ts` group holds the time at the start of the line
(the rest of the line is the message) and a polars expression that turns that text into a UTC
datetime. Formats without a year (syslog) take the year of --since/--until, else this year.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from hindsight.domain.timeline import resolve_zone

ZoneFn = Callable[[pl.Expr], pl.Expr]


@dataclass(frozen=True)
class LogFormat:
    """One way lines start with a time."""

    name: str
    example: str
    pattern: str
    to_datetime: Callable[[pl.Expr, int, ZoneFn], pl.Expr]

    @property
    def regex(self) -> re.Pattern[str]:
        """The compiled pattern, for detection on a sample."""
        return re.compile(self.pattern)


def _iso(text: pl.Expr, _year: int, local: ZoneFn) -> pl.Expr:
    # Slicing fixed positions and parsing one format is ~4x faster than a format with optional
    # parts; only the short tail (fraction and offset) goes through a regular expression.
    base = (
        text.str.slice(0, 19)
        .str.replace("T", " ", literal=True, n=1)
        .str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False, time_unit="ms")
    )
    offset = text.str.slice(19).str.extract(r"(Z|[+-]\d{2}:?\d{2})$", 1)
    sign = pl.when(offset.str.starts_with("-")).then(-1).otherwise(1)
    digits = offset.str.replace_all(r"[^0-9]", "")
    minutes = sign * (
        digits.str.slice(0, 2).cast(pl.Int32, strict=False) * 60
        + digits.str.slice(2, 2).cast(pl.Int32, strict=False)
    )
    with_offset = base - pl.duration(minutes=minutes.fill_null(0))
    return pl.when(offset.is_null()).then(local(base)).otherwise(with_offset)


def _strptime(fmt: str, *, prefix_year: bool = False) -> Callable[[pl.Expr, int, ZoneFn], pl.Expr]:
    def parse(text: pl.Expr, year: int, local: ZoneFn) -> pl.Expr:
        value = text.str.replace_all(r"\s+", " ")
        if prefix_year:
            value = pl.lit(f"{year} ") + value
        return local(value.str.to_datetime(fmt, strict=False, time_unit="ms"))

    return parse


def _epoch(text: pl.Expr, _year: int, _local: ZoneFn) -> pl.Expr:
    seconds = text.cast(pl.Float64, strict=False)
    return (seconds * 1000).cast(pl.Int64).cast(pl.Datetime("ms"))


FORMATS: tuple[LogFormat, ...] = (
    LogFormat(
        "iso",
        "2018-01-18T06:52:00Z, 2015-07-29 17:41:44,747",
        r"^\[?(?P<ts>\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?"
        r"(?:Z|[+-]\d{2}:?\d{2})?)\]?",
        _iso,
    ),
    LogFormat(
        "syslog",
        "Jun 14 15:16:01",
        r"^(?P<ts>[A-Z][a-z]{2} {1,2}\d{1,2} \d{2}:\d{2}:\d{2})",
        _strptime("%Y %b %d %H:%M:%S", prefix_year=True),
    ),
    LogFormat(
        "apache",
        "[Sun Dec 04 04:47:44 2005]",
        r"^\[(?P<ts>[A-Z][a-z]{2} [A-Z][a-z]{2} {1,2}\d{1,2} \d{2}:\d{2}:\d{2} \d{4})\]",
        _strptime("%a %b %d %H:%M:%S %Y"),
    ),
    LogFormat(
        "clf",
        "[10/Oct/2000:13:55:36 -0700] (access logs)",
        r"^\S+ \S+ \S+ \[(?P<ts>\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4})\]",
        lambda text, _y, _l: (
            text.str.to_datetime("%d/%b/%Y:%H:%M:%S %z", strict=False, time_unit="ms")
            .dt.convert_time_zone("UTC")
            .dt.replace_time_zone(None)
        ),
    ),
    LogFormat("hdfs", "081109 203615", r"^(?P<ts>\d{6} \d{6})\b", _strptime("%y%m%d %H%M%S")),
    LogFormat(
        "spark",
        "17/06/09 20:10:40",
        r"^(?P<ts>\d{2}/\d{2}/\d{2} \d{2}:\d{2}:\d{2})\b",
        _strptime("%y/%m/%d %H:%M:%S"),
    ),
    LogFormat("epoch", "1117838570 (Unix seconds)", r"^(?P<ts>1\d{9}(?:\.\d+)?)\b", _epoch),
)


def local_to_utc(zone: str) -> ZoneFn:
    """A function that reads naive datetimes as wall-clock times in `zone` and gives UTC."""
    tz = resolve_zone(zone)
    key = getattr(tz, "key", None)
    if zone == "UTC":
        return lambda value: value
    if isinstance(key, str):
        return lambda value: (
            value.dt.replace_time_zone(key, ambiguous="earliest", non_existent="null")
            .dt.convert_time_zone("UTC")
            .dt.replace_time_zone(None)
        )
    offset = tz.utcoffset(None) or dt.timedelta(0)
    return lambda value: value - pl.lit(offset)


def custom_format(fmt: str) -> LogFormat:
    """A format the user gave as strftime codes; the time may be anywhere on the line."""
    try:
        dt.datetime.now().strftime(fmt)
    except ValueError as error:
        raise ValueError(f"--timestamp-format {fmt!r} is not a valid format ({error})") from None
    if "%" not in fmt:
        raise ValueError(f"--timestamp-format {fmt!r} has no % codes, e.g. '%d/%m/%Y %H:%M:%S'")
    has_zone = "%z" in fmt

    def parse(text: pl.Expr, _year: int, local: ZoneFn) -> pl.Expr:
        value = text.str.to_datetime(fmt, strict=False, exact=False, time_unit="ms")
        if has_zone:
            return value.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
        return local(value)

    return LogFormat("custom", fmt, r"^(?P<ts>.*?)", parse)


def detect(sample: list[str]) -> LogFormat | None:
    """The format most of the sample lines start with (at least half of them), if any."""
    lines = [line for line in sample if line.strip()]
    if not lines:
        return None
    best, best_count = None, 0
    for candidate in FORMATS:
        regex = candidate.regex
        count = sum(1 for line in lines if regex.match(line))
        if count > best_count:
            best, best_count = candidate, count
    return best if best_count * 2 >= len(lines) else None
