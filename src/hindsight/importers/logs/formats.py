"""Timestamp formats of log lines, recognised from a file's first lines and parsed in bulk.

Each format is a regular expression whose `ts` group holds the time at the start of the line
(after a pid or a role for redis and nats; the rest of the line is the message) and a
polars expression that turns that text into a UTC datetime. Formats without a year (syslog)
take the year of --since/--until, else this year.
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
    # The time is not at the very start (a pid, a role): take the `ts` group, not the prefix.
    inside: bool = False
    # The share of lines that must match: apt's history has one time per stanza of 4-6 lines.
    share: float = 0.5

    @property
    def regex(self) -> re.Pattern[str]:
        """The compiled pattern, for detection on a sample."""
        return re.compile(self.pattern)


# Zone abbreviations that name one offset (PostgreSQL's `%m`/`%t` prefix writes its
# log_timezone this way: "2024-03-01 12:00:00.123 UTC [42] LOG: …"); minutes east of UTC.
# Ambiguous ones (IST, CST in China, BST in Bangladesh…) are left out: such a line reads in
# the zone given with --tz, as a line without a zone does.
ZONE_ABBREVIATIONS: dict[str, int] = {
    "UTC": 0,
    "GMT": 0,
    "Z": 0,
    "WET": 0,
    "WEST": 60,
    "CET": 60,
    "CEST": 120,
    "MET": 60,
    "MEST": 120,
    "EET": 120,
    "EEST": 180,
    "MSK": 180,
    "EST": -300,
    "EDT": -240,
    "CDT": -300,
    "MST": -420,
    "MDT": -360,
    "PST": -480,
    "PDT": -420,
    "AKST": -540,
    "AKDT": -480,
    "HST": -600,
    "JST": 540,
    "KST": 540,
    "AEST": 600,
    "AEDT": 660,
    "ACST": 570,
    "AWST": 480,
    "NZST": 720,
    "NZDT": 780,
}
ZONE_NAMES = "|".join(sorted(ZONE_ABBREVIATIONS, key=len, reverse=True))


def _iso(text: pl.Expr, _year: int, local: ZoneFn) -> pl.Expr:
    # Slicing fixed positions and parsing one format is ~4x faster than a format with optional
    # parts; only the short tail (fraction and offset) goes through a regular expression.
    base = (
        text.str.slice(0, 19)
        .str.replace("T", " ", literal=True, n=1)
        .str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False, time_unit="ms")
    )
    tail = text.str.slice(19)
    offset = tail.str.extract(r"([+-]\d{2}(?::?\d{2})?)$", 1)
    sign = pl.when(offset.str.starts_with("-")).then(-1).otherwise(1)
    digits = offset.str.replace_all(r"[^0-9]", "")
    numeric = sign * (
        digits.str.slice(0, 2).cast(pl.Int32, strict=False) * 60
        + digits.str.slice(2, 2).cast(pl.Int32, strict=False).fill_null(0)
    )
    named = tail.str.extract(rf"(?:^|\d|\s)({ZONE_NAMES})$", 1).replace_strict(
        ZONE_ABBREVIATIONS, default=None, return_dtype=pl.Int32
    )
    minutes = pl.coalesce(numeric, named)
    with_offset = base - pl.duration(minutes=minutes.fill_null(0))
    return pl.when(minutes.is_null()).then(local(base)).otherwise(with_offset)


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
        rf"(?:Z|[+-]\d{{2}}(?::?\d{{2}})?|\s(?:{ZONE_NAMES})\b)?)\]?",
        _iso,
    ),
    LogFormat(
        "redis",
        "2220:M 02 Dec 2026 02:03:18.249 * (redis-server)",
        r"^\d+:[XCSM] (?P<ts>\d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2}(?:\.\d+)?)",
        _strptime("%d %b %Y %H:%M:%S%.f"),
        inside=True,
    ),
    LogFormat(
        "nats",
        "[2960] 2026/12/02 02:03:29.855623 [INF] (nats-server)",
        r"^\[\d+\] (?P<ts>\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}(?:\.\d+)?)",
        _strptime("%Y/%m/%d %H:%M:%S%.f"),
        inside=True,
    ),
    LogFormat(
        "apt",
        "Start-Date: 2025-06-24  14:36:25 (apt history.log)",
        r"^(?:Start|End)-Date: (?P<ts>\d{4}-\d{2}-\d{2}  ?\d{2}:\d{2}:\d{2})",
        _strptime("%Y-%m-%d %H:%M:%S"),
        inside=True,
        share=0.25,
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
    chrono, comma = chrono_format(fmt)

    def parse(text: pl.Expr, _year: int, local: ZoneFn) -> pl.Expr:
        if comma:  # '17:41:44,747': chrono reads a fraction only after a dot
            text = text.str.replace(r"(\d{2}:\d{2}:\d{2}),(\d)", "${1}.${2}")
        value = text.str.to_datetime(chrono, strict=False, exact=False, time_unit="ms")
        if has_zone:
            return value.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
        return local(value)

    return LogFormat("custom", fmt, r"^(?P<ts>.*?)", parse)


def chrono_format(fmt: str) -> tuple[str, bool]:
    """A Python strftime format as polars (chrono) reads it, and whether a comma stood
    before the fraction. Python's `%f` is 1-6 digits after the separator the format writes;
    chrono's `%f` is nanoseconds and warns, so `.%f`/`,%f` become chrono's `%.f`."""
    comma = ",%f" in fmt
    chrono = fmt.replace(".%f", "%.f").replace(",%f", "%.f").replace("%f", "%6f")
    return chrono.replace("%.6f", "%.f"), comma


def detect(sample: list[str]) -> LogFormat | None:
    """The format most of the sample lines start with (at least its `share` of them)."""
    lines = [line for line in sample if line.strip()]
    if not lines:
        return None
    best, best_share = None, 0.0
    for candidate in FORMATS:
        regex = candidate.regex
        share = sum(1 for line in lines if regex.match(line)) / len(lines)
        if share >= candidate.share and share > best_share:
            best, best_share = candidate, share
    return best
