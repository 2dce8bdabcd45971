"""Timeline rows: a time at the start of a heading, bullet, table row or line; a date line sets
the date for the rows after it; key-moment words ('Incident declared', 'Resolved') mark moments."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from hindsight.analysis.archive.clock import (
    ReadTime,
    abbreviation_mismatch,
    combine,
    find_zone_statement,
    read_time,
)
from hindsight.analysis.archive.model import ArchiveEvent, Flag, Placement, SourceLine

# Words that state a key moment, in the order the moments happen (domain KeyMoment values).
MOMENT_WORDS: tuple[tuple[str, str], ...] = (
    (
        "impact_started",
        r"fault occur(?:s|red)|problem start(?:s|ed)|impact start(?:s|ed)|outage "
        r"(?:start(?:s|ed)|began|begins)|incident start(?:s|ed)|issue start(?:s|ed)",
    ),
    ("detected", r"first detected|detected|first noticed|alert(?:s)? fired|first alert"),
    ("acknowledged", r"incident declared|declared|acknowledged"),
    (
        "mitigated",
        r"repaired|mitigated|service (?:is |was )?restored|workaround (?:applied|deployed)",
    ),
    ("resolved", r"resolved|incident resolved|incident closed|fully resolved"),
)
_MOMENT = re.compile(
    r"^(?:status\W+)?(?P<phrase>"
    + "|".join(f"(?P<{name}>{words})" for name, words in MOMENT_WORDS)
    + r")\b\W*",
    re.I,
)
_MARKUP = re.compile(
    r"^\s*(?:#{1,6}\s+|[-*+\u2022\u25cf\u25aa]\s+(?:\[[ xX]\]\s+)?|\d+[.)]\s+|>\s*)?(?:\*\*|__)?"
)
_TBC = re.compile(r"\b(?:time\s+)?(?:tbc|tbd|to be confirmed|unknown time)\b", re.I)
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?\s*$")
_HEADER_WORDS = {
    "time",
    "date",
    "event",
    "events",
    "description",
    "what",
    "happened",
    "who",
    "actor",
    "owner",
    "action",
    "notes",
    "note",
    "timestamp",
    "utc",
    "local",
    "details",
    "what happened",
    "time utc",
    "source",
}


def moment_of(text: str) -> str | None:
    """The key moment a row's text states at its start ('Incident declared' -> acknowledged)."""
    match = _MOMENT.match(re.sub(r"^[*_`\s]+", "", text))
    if not match:
        return None
    return next(name for name, _ in MOMENT_WORDS if match.group(name))


@dataclass
class _Row:
    line: int
    at: dt.datetime
    zone: str
    text: list[str]
    lines: list[int]
    moment: str | None


@dataclass
class TimelineReading:
    """What the timeline part gave: events, lines kept as notes, placements and flags."""

    events: list[ArchiveEvent] = field(default_factory=list)
    notes: list[SourceLine] = field(default_factory=list)
    placements: list[Placement] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)
    zone: str = ""


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _row_time(line: str) -> tuple[ReadTime, str] | None:
    """A time at the start of the line once markup is off, or after a key-moment phrase
    ('Fault occurs 2020-02-12 11:45', 'Resolved at 15:09 UTC')."""
    if line.lstrip().startswith("|"):
        cells = _cells(line)
        if len(cells) >= 2:
            first = read_time(cells[0], compact=True)
            if first and first.date and first.time is None and len(cells) >= 3:
                second = read_time(cells[1], compact=True)
                if second and second.time:
                    rest = " | ".join(c for c in (second.rest, *cells[2:]) if c)
                    return ReadTime(
                        first.date,
                        second.time,
                        second.zone,
                        rest,
                        f"{cells[0]} {cells[1]}",
                        "",
                        second.abbreviation,
                    ), ""
            if first and not first.rest:
                rest = " | ".join(c for c in cells[1:] if c)
                return ReadTime(
                    first.date,
                    first.time,
                    first.zone,
                    rest,
                    first.written,
                    first.bad_year,
                    first.abbreviation,
                ), ""
        return None
    plain = _MARKUP.sub("", line).replace("**", "").replace("__", "").strip()
    found = read_time(plain, compact=True)
    if found:
        return found, ""
    moment = _MOMENT.match(plain)
    if moment:
        after = read_time(
            re.sub(r"^(?:at|on)\s+", "", plain[moment.end() :].strip(), flags=re.I), compact=False
        )
        if after and after.time:
            return after, moment.group("phrase")
    return None


class TimelineReader:
    """Reads the lines of every timeline section of one report, in order."""

    def __init__(self, *, name: str, zone: str, fallback_date: dt.date | None) -> None:
        self.name = name
        self.zone = zone
        self.date = fallback_date
        self.result = TimelineReading(zone=zone)
        self.row: _Row | None = None
        self._no_zone_flagged = False
        self._fence = ""
        self._abbreviations: set[str] = set()

    def _close(self) -> None:
        row, self.row = self.row, None
        if row is None:
            return
        text = "\n".join(row.text).strip()
        moment = row.moment or (moment_of(text) if text else None)
        self.result.events.append(
            ArchiveEvent(row.line, row.at, row.zone, text, moment, tuple(row.lines))
        )

    def read(self, lines: list[SourceLine], heading: str, heading_line: int) -> None:
        """One timeline section; its heading may name the zone ('Timeline (times in BST)')."""
        statement = find_zone_statement(heading)
        if statement:
            self.zone = statement.zone
        for source in lines:
            self._line(source)
        self._close()

    def _note(self, source: SourceLine, role: str = "note") -> None:
        self.result.notes.append(source)
        self.result.placements.append(Placement(source.number, "timeline", role))

    def _in_code(self, line: str) -> bool:
        """Inside a fenced or indented code block, a line is text, never a row."""
        marker = re.match(r"^\s*(```|~~~)", line)
        if self._fence:
            if marker and marker.group(1) == self._fence:
                self._fence = ""
            return True
        if marker:
            self._fence = marker.group(1)
            return True
        return line.startswith(("    ", "\t"))

    def _line(self, source: SourceLine) -> None:
        line = source.text
        if not line.strip():
            if self.row is not None:
                self.row.text.append("")
            return
        if self._in_code(line):
            self._continue(source)
            return
        statement = find_zone_statement(line)
        if statement and self.row is None:
            self.zone = statement.zone
            self._note(source, "zone")
            return
        if _TABLE_RULE.match(line):
            self.result.placements.append(Placement(source.number, "timeline", "table rule"))
            return
        if line.lstrip().startswith("|") and all(
            cell.lower().strip("* ") in _HEADER_WORDS for cell in _cells(line) if cell
        ):
            self._note(source, "table header")
            return
        found = _row_time(line)
        if found is None:
            if _TBC.search(line) and re.match(
                r"^\W*(?:time\s+)?(?:tbc|tbd)", _MARKUP.sub("", line), re.I
            ):
                self.result.flags.append(
                    Flag(
                        source.number,
                        "time-tbc",
                        f"the time is not known ('{line.strip()}'); the row is kept as a note",
                    )
                )
                self._close()
                self._note(source)
                return
            self._continue(source)
            return
        self._row(source, *found)

    def _continue(self, source: SourceLine) -> None:
        """A line that goes on with the open row's text (or a note before the first row)."""
        if self.row is None:
            self._note(source)
            return
        self.row.text.append(source.text.rstrip())
        self.row.lines.append(source.number)
        self.result.placements.append(Placement(source.number, "timeline", "event"))

    def _take_date(self, source: SourceLine, read: ReadTime) -> bool:
        """Move to the row's date ('2018-01-18', or 'May 12' in the year of the rows before);
        False when the row has to be kept as a note instead."""
        if read.date is not None:
            self.date = read.date
        elif read.month_day is not None:
            if self.date is None:
                self.result.flags.append(
                    Flag(
                        source.number,
                        "no-date",
                        f"'{read.written}' names no year and no dated row came before it; "
                        "the row is kept as a note",
                    )
                )
                self._note(source)
                return False
            month, day = read.month_day
            try:
                self.date = self.date.replace(month=month, day=day)
            except ValueError:
                self.result.flags.append(
                    Flag(source.number, "bad-date", f"'{read.written}' is not a real date")
                )
                self._note(source)
                return False
        return True

    def _row(self, source: SourceLine, read: ReadTime, phrase: str) -> None:
        self._close()
        if read.bad_year:
            self.result.flags.append(
                Flag(
                    source.number,
                    "bad-date",
                    f"the year {read.bad_year} in '{read.written}' is not a real year (a "
                    f"typo?); the row is kept as a note, as written",
                )
            )
            self._note(source)
            return
        if not self._take_date(source, read):
            return
        if read.time is None:
            self.result.placements.append(Placement(source.number, "timeline", "date"))
            if read.rest:
                self._note(SourceLine(source.number, read.rest))
            return
        if self.date is None:
            self.result.flags.append(
                Flag(
                    source.number,
                    "no-date",
                    f"'{read.written}' has no date and no date came before it; the row is kept "
                    f"as a note",
                )
            )
            self._note(source)
            return
        zone = read.zone or self.zone
        if not zone:
            zone = "UTC"
            if not self._no_zone_flagged:
                self._no_zone_flagged = True
                self.result.flags.append(
                    Flag(
                        source.number,
                        "no-zone",
                        "the report names no time zone; its times are read as UTC (name one "
                        "with --zone)",
                    )
                )
        at = combine(self.date, read.time, zone)
        real = abbreviation_mismatch(at, read.abbreviation)
        if real and read.abbreviation not in self._abbreviations:
            self._abbreviations.add(read.abbreviation)
            self.result.flags.append(
                Flag(
                    source.number,
                    "zone-name",
                    f"'{read.abbreviation.upper()}' is written for {self.date.isoformat()}, "
                    f"when the zone was on {real}; the time is read as local time there ({real})",
                )
            )
        previous = self.result.events[-1] if self.result.events else None
        if (
            previous is not None
            and read.date is None
            and previous.at is not None
            and at < previous.at
        ):
            self.result.flags.append(
                Flag(
                    source.number,
                    "time-goes-back",
                    f"'{read.written}' is earlier than the row before it (line {previous.line}) "
                    f"under the same date; kept as written (write the date if it is the next day)",
                )
            )
        text = " ".join(part for part in (phrase, read.rest) if part)
        moment = moment_of(text) if text else None
        self.row = _Row(source.number, at, zone, [text] if text else [], [source.number], moment)
        self.result.placements.append(Placement(source.number, "timeline", "event time"))
