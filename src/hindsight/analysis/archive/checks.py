"""Inconsistencies kept as written and flagged: key moments out of order, stated durations that
disagree with the times, impossible years."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Sequence

from hindsight.analysis.archive.clock import read_duration
from hindsight.analysis.archive.model import ArchiveEvent, Flag

ORDER = ("impact_started", "detected", "acknowledged", "mitigated", "resolved")
_LABELS = {
    "impact_started": "impact started",
    "detected": "detected",
    "acknowledged": "declared/acknowledged",
    "mitigated": "repaired/mitigated",
    "resolved": "resolved",
}
_STATED = re.compile(
    r"time to (?P<what>repair|resolve|mitigate|detect|recover)\W+(?P<value>.*)", re.I
)
_YEAR = re.compile(
    r"\b(?:\d{5,}-\d{1,2}-\d{1,2}|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{1,2},?\s+\d{5,})\b",
    re.I,
)


def first_moments(events: Sequence[ArchiveEvent]) -> dict[str, ArchiveEvent]:
    """The first event stating each key moment."""
    found: dict[str, ArchiveEvent] = {}
    for event in events:
        if event.key_moment and event.key_moment not in found and event.at is not None:
            found[event.key_moment] = event
    return found


def _when(event: ArchiveEvent) -> str:
    return f"{event.at:%Y-%m-%d %H:%M} {event.zone}, line {event.line}"


def check_moment_order(events: Sequence[ArchiveEvent]) -> list[Flag]:
    """'resolved' stated before 'declared' and the like."""
    moments = first_moments(events)
    flags = []
    for earlier, later in itertools.combinations(ORDER, 2):
        if earlier in moments and later in moments and moments[later].at < moments[earlier].at:
            flags.append(
                Flag(
                    moments[later].line,
                    "moment-order",
                    f"'{_LABELS[later]}' ({_when(moments[later])}) is before "
                    f"'{_LABELS[earlier]}' ({_when(moments[earlier])}); kept as written",
                )
            )
    return flags


def _minutes(value: dt.timedelta) -> str:
    total = int(value.total_seconds() // 60)
    return (
        f"{total // 60}h {total % 60:02d}m"
        if total >= 0
        else f"-{-total // 60}h {-total % 60:02d}m"
    )


def check_durations(events: Sequence[ArchiveEvent], lines: Sequence[str]) -> list[Flag]:
    """A stated 'Time to repair/resolve' must equal the time between some start moment
    (impact started, detected, declared) and the end it names (repaired, else resolved)."""
    moments = first_moments(events)
    starts = [
        moments[name] for name in ("impact_started", "detected", "acknowledged") if name in moments
    ]
    flags = []
    for number, line in enumerate(lines, start=1):
        match = _STATED.search(line)
        if not match or not starts:
            continue
        stated = read_duration(match.group("value"))
        what = match.group("what").lower()
        end_names = {
            "repair": ("mitigated", "resolved"),
            "recover": ("mitigated", "resolved"),
            "mitigate": ("mitigated",),
            "resolve": ("resolved",),
            "detect": ("detected",),
        }[what]
        end = next((moments[name] for name in end_names if name in moments), None)
        if stated is None or end is None:
            continue
        computed = [end.at - start.at for start in starts if start is not end]
        if computed and all(abs(value - stated) >= dt.timedelta(minutes=1) for value in computed):
            between = ", ".join(sorted({_minutes(value) for value in computed}))
            flags.append(
                Flag(
                    number,
                    "duration",
                    f"'time to {what}' is written as {_minutes(stated)}, but the key times give "
                    f"{between}; both are kept as written",
                )
            )
    return flags


def check_years(lines: Sequence[str]) -> list[Flag]:
    """A date with a five-digit year ('22025-03-01') anywhere in the report."""
    return [
        Flag(
            number,
            "bad-date",
            f"'{match.group(0)}' has an impossible year (a typo?); kept as written",
        )
        for number, line in enumerate(lines, start=1)
        for match in _YEAR.finditer(line)
    ]


_UTC_IN_TEXT = re.compile(
    r"\b\d{4},?\s+at\s+(?P<hour>\d{1,2}):(?P<minute>\d{2})\s*(?P<ampm>[AP]M)?\s*(?:UTC|GMT|Z)\b",
    re.I,
)


def check_stated_utc(events: Sequence[ArchiveEvent]) -> list[Flag]:
    """A row written at one time whose own text gives a different UTC time of day (an alert
    quoted as 'Violation started: … at 4:42PM UTC' under '12:42 PM' in 'times in BST')."""
    flags = []
    for event in events:
        text = event.text if event.zone != "UTC" else ""
        for match in _UTC_IN_TEXT.finditer(text):
            hour = int(match.group("hour")) % (12 if match.group("ampm") else 24)
            if (match.group("ampm") or "").upper() == "PM":
                hour += 12
            utc = event.at.astimezone(dt.UTC)
            stated = utc.replace(hour=hour % 24, minute=int(match.group("minute")))
            gap = abs((stated - utc).total_seconds()) / 60
            if min(gap, 1440 - gap) > 1:
                flags.append(
                    Flag(
                        event.line,
                        "stated-utc",
                        f"the row is written at {event.at:%H:%M} {event.zone} "
                        f"({utc:%H:%M} UTC) but its text says {match.group(0).strip()}; "
                        "kept as written (is the report's zone right?)",
                    )
                )
                break

    return flags
