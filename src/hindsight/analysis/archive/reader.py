"""Read one archived report (Markdown or PDF text) into an ArchiveReport. Pure: bytes in."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from hindsight.analysis.archive.checks import (
    check_durations,
    check_moment_order,
    check_stated_utc,
    check_years,
)
from hindsight.analysis.archive.clock import find_zone_statement, read_time
from hindsight.analysis.archive.headings import HeadingTable
from hindsight.analysis.archive.items import read_actions, read_items
from hindsight.analysis.archive.model import ArchiveReport, Flag, Placement, ReportPart, SourceLine
from hindsight.analysis.archive.sections import PROSE_PARTS, Section, split_report
from hindsight.analysis.archive.timeline import TimelineReader

_REFERENCE = re.compile(r"^\s{0,3}\[(?P<ref>[^\]]+)\]:\s*(?P<url>\S+)")
_DATE_IN = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def _fallback_date(front: dict[str, object], title: str, name: str) -> dt.date | None:
    """The date rows without one take before any date line: front matter, title, file name."""
    value = front.get("date")
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    for text in (str(value or ""), title, name):
        match = _DATE_IN.search(text)
        if match:
            try:
                return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
            except ValueError:
                continue
        for start in [0, *(m.start() for m in re.finditer(r"\b[A-Za-z]{3,9}\b|\b\d", text))]:
            found = read_time(text[start:])
            if found and found.date:
                return found.date
    return None


def _date_mismatch(title: str, name: str) -> list[Flag]:
    """The title's date and the file name's date disagree (kept as written; flagged)."""
    in_title = _fallback_date({}, title, "")
    in_name = _DATE_IN.search(name.rsplit("/", 1)[-1])
    if in_title is None or in_name is None or in_name.group(0) == in_title.isoformat():
        return []
    return [
        Flag(
            1,
            "date-mismatch",
            f"the title's date ({in_title.isoformat()}) is not the file name's "
            f"({in_name.group(0)}); times without a date take the title's",
        )
    ]


def _document_zone(sections: Iterable[Section]) -> str:
    for section in sections:
        statement = find_zone_statement(section.heading)
        if statement:
            return statement.zone
        for line in section.lines:
            statement = find_zone_statement(line.text)
            if statement:
                return statement.zone
    return ""


def read_text_report(  # noqa: C901 - one pass that hands each part to its reader
    text: str, name: str, *, zone: str | None, headings: HeadingTable, layout: str
) -> ArchiveReport:
    """Map a report's text to parts; every non-blank line gets a placement."""
    split = split_report(text, table=headings, pdf=layout == "pdf")
    flags: list[Flag] = list(split.flags)
    placements: list[Placement] = [
        Placement(n, role.split(" ", 1)[1], "heading")
        if role.startswith("heading ")
        else Placement(n, "summary", role)
        for n, role in split.structure.items()
    ]
    notes: list[tuple[str, SourceLine]] = []
    references: dict[str, str] = {}
    prose: dict[str, list[str]] = {}
    # Link reference definitions serve the whole document; they are kept with the overview.
    for section in split.sections:
        kept = []
        for line in section.lines:
            match = _REFERENCE.match(line.text)
            if match and section.part not in ("timeline",):
                references[match.group("ref").lower()] = match.group("url")
                notes.append(("references", line))
                placements.append(Placement(line.number, "summary", "link reference"))
            else:
                kept.append(line)
        section.lines = kept
    for line in split.front_lines:
        if split.title and re.match(r"^\s*title\s*[:=]", line.text, re.I):
            placements.append(Placement(line.number, "summary", "title"))
        else:
            notes.append(("front matter", line))
            placements.append(Placement(line.number, "summary", "front matter"))
    flags += _date_mismatch(split.title, name)
    if not split.title:
        flags.append(
            Flag(
                1,
                "no-title",
                "the report has no title (no '# ' heading or front matter title); the file name "
                "is used",
            )
        )
    if not split.recognised:
        flags.append(
            Flag(
                1,
                "no-headings",
                "no heading is one the importer knows (see the heading table in "
                "docs/archive-import.md); the whole report is kept as the summary of a draft",
            )
        )
    titled = read_time(split.title) if split.title else None  # '# 2017-11-30 4:23PM PST, …'
    document_zone = _document_zone(split.sections) or (titled.zone if titled else "") or zone or ""
    timeline = TimelineReader(
        name=name,
        zone=document_zone,
        fallback_date=_fallback_date(split.front_matter, split.title, name),
    )
    grouped: dict[str, list[tuple[str, list[SourceLine]]]] = {}
    for section in split.sections:
        if section.part == "timeline":
            timeline.read(section.lines, section.heading, section.heading_line)
        elif section.part in PROSE_PARTS:
            body = prose.setdefault(section.part, [])
            if section.heading and body:
                body.append("")  # sections that share a part stay apart
            for line in section.lines:
                body.append(line.text)
                if line.text.strip():
                    placements.append(Placement(line.number, section.part, "prose"))
        else:
            grouped.setdefault(section.part, []).append((section.heading, section.lines))
    reading = timeline.result
    placements += reading.placements
    flags += reading.flags
    notes += [("timeline", line) for line in reading.notes]
    actions_read = read_actions(
        grouped.pop("action_items", []), references, plain_lines=layout == "pdf"
    )
    placements += actions_read.placements
    notes += [("action_items", line) for line in actions_read.notes]
    items: dict[str, tuple[tuple[int, str], ...]] = {}
    for part, sections in grouped.items():
        found = read_items(part, sections)
        items[part] = tuple(found.items)
        placements += found.placements
        notes += [(part, line) for line in found.notes]
    lines = text.split("\n")
    flags += check_moment_order(reading.events)
    flags += check_durations(reading.events, lines)
    flags += check_years(lines)
    flags += check_stated_utc(reading.events)
    flags = list({(f.line, f.code): f for f in flags}.values())
    parts = tuple(
        ReportPart(s.part, s.heading, s.heading_line, tuple(s.lines))
        for s in split.sections
        if s.lines or s.heading
    )
    return ArchiveReport(
        name=name,
        layout=layout,
        title=split.title,
        front_matter=dict(split.front_matter),
        parts=parts,
        events=tuple(reading.events),
        actions=tuple(actions_read.actions),
        items=items,
        prose={part: "\n".join(body).strip("\n") for part, body in prose.items()},
        notes=tuple(notes),
        flags=tuple(sorted(flags, key=lambda flag: flag.line)),
        placements=tuple(sorted(placements, key=lambda p: p.line)),
        line_count=len(lines),
        zone=reading.zone or document_zone,
        source_text=text,
    )
