"""An ArchiveReport as a draft Postmortem. Text the domain cannot hold as an item (too long, a
sub-heading, a paragraph between action items) is kept verbatim in the summary's notes."""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Any

from hindsight.analysis.archive.checks import first_moments
from hindsight.analysis.archive.model import ArchiveReport, Flag, SourceLine
from hindsight.domain.actions import ActionItem, ActionKind, ActionStatus
from hindsight.domain.impact import Impact
from hindsight.domain.incidents import (
    TITLE_LIMIT,
    IncidentStatus,
    Lesson,
    Participant,
    Postmortem,
    Severity,
)
from hindsight.domain.rca import RootCauseAnalysis
from hindsight.domain.response import ResponseEvaluation
from hindsight.domain.text import LINE_LIMIT, find_unclosed_fence, iter_headings, slugify
from hindsight.domain.timeline import KeyMoment, Provenance, TimelineEvent

NOTES_HEADING = "#### Kept from the archived report"
_PART_NAMES = {
    "front matter": "front matter",
    "references": "link references",
    "timeline": "Timeline",
    "action_items": "Action items",
    "lessons": "Lessons",
    "participants": "Participants",
    "went_well": "What went well",
    "went_wrong": "What went wrong",
    "got_lucky": "Where we got lucky",
}


def key_for(name: str) -> str:
    """The key a file imports under when none is stored: its name without folders or suffix."""
    stem = PurePosixPath(name.replace("\\", "/")).name
    stem = re.sub(r"(\.[A-Za-z0-9]{1,5})+$", "", stem)
    return slugify(stem, max_length=80)


def safe_prose(lines: list[str]) -> str:
    """Verbatim text made storable as prose: '#'…'###' headings read as '####' (prose keeps
    the top levels for the parts), an unclosed code fence is closed. The domain's own rules
    (domain/text.py) decide what is a heading and a fence."""
    lines = list(lines)
    for heading in list(iter_headings(lines)):
        line = lines[heading.index]
        lines[heading.index] = re.sub(r"^( {0,3})#{1,3}", r"\1####", line, count=1)
    unclosed = find_unclosed_fence(lines)
    if unclosed is not None:
        fence = re.match(r"^ {0,3}(`{3,}|~{3,})", lines[unclosed])
        lines.append(fence.group(1) if fence else "```")
    return "\n".join(lines).strip("\n")


def _origin(name: str) -> str:
    return re.sub(r"[;#]", "_", name)[:400] or "archive"


class _Builder:
    def __init__(self, report: ArchiveReport) -> None:
        self.report = report
        self.extra: list[tuple[str, SourceLine]] = []
        self.flags: list[Flag] = []

    def keep(self, part: str, line: int, text: str, why: str) -> None:
        self.extra.append((part, SourceLine(line, text)))
        self.flags.append(Flag(line, "kept-as-note", why))

    def events(self) -> tuple[TimelineEvent, ...]:
        report = self.report
        marked = {id(event) for event in first_moments(report.events).values()}
        events = []
        for event in report.events:
            text = event.text or report.source_text.split("\n")[event.line - 1].strip(" #")
            try:
                events.append(
                    TimelineEvent(
                        at=event.at,
                        text=text,
                        zone=event.zone,
                        source="archive",
                        key_moment=(
                            KeyMoment(event.key_moment)
                            if event.key_moment and id(event) in marked
                            else None
                        ),
                        provenance=(Provenance(_origin(report.name), f"line {event.line}"),),
                    )
                )
            except ValueError as error:
                self.keep(
                    "timeline",
                    event.line,
                    text,
                    f"the row cannot be an event ({error}); kept as a note",
                )
        return tuple(events)

    def actions(self) -> tuple[ActionItem, ...]:
        result = []
        for action in self.report.actions:
            try:
                result.append(
                    ActionItem(
                        title=action.title,
                        kind=ActionKind(action.kind),
                        owner=action.owner,
                        status=ActionStatus.DONE if action.done else ActionStatus.OPEN,
                        tracker_url=action.tracker_url,
                    )
                )
            except ValueError as error:
                self.keep(
                    "action_items",
                    action.line,
                    action.title,
                    f"the action item cannot be stored ({error}); kept as a note",
                )
        return tuple(result)

    def lines_of(self, part: str, *, limit: int = LINE_LIMIT) -> tuple[str, ...]:
        kept = []
        for line, text in self.report.items.get(part, ()):
            if len(text) > limit:
                self.keep(
                    part, line, text, f"the line is longer than {limit} characters; kept as a note"
                )
            else:
                kept.append(text)
        return tuple(kept)

    def participants(self) -> tuple[Participant, ...]:
        result, seen = [], set()
        for line, name in self.report.items.get("participants", ()):
            if len(name) > 200 or name in seen:
                self.keep(
                    "participants", line, name, "not a name that fits a participant; kept as a note"
                )
                continue
            seen.add(name)
            result.append(Participant(name=name))
        return tuple(result)

    def notes(self) -> str:
        groups: dict[str, list[SourceLine]] = {}
        for part, line in (*self.report.notes, *self.extra):
            groups.setdefault(part, []).append(line)
        blocks = []
        for part, lines in groups.items():
            lines.sort(key=lambda line: line.number)
            first, last = lines[0].number, lines[-1].number
            span = f"line {first}" if first == last else f"lines {first}-{last}"
            blocks.append(
                f"From {_PART_NAMES.get(part, part)} ({span}):\n\n"
                + safe_prose([line.text for line in lines])
            )
        return f"{NOTES_HEADING}\n\n" + "\n\n".join(blocks) if blocks else ""


def build_postmortem(report: ArchiveReport, *, key: str | None = None) -> Postmortem:
    """The report as a draft Postmortem (SEV3 unless the front matter names a severity).
    Raises ValueError naming the field when a value is beyond the domain's limits."""
    return convert_report(report, key=key)[0]


def convert_report(
    report: ArchiveReport, *, key: str | None = None
) -> tuple[Postmortem, tuple[Flag, ...]]:
    """The draft Postmortem and every flag: the reading's and the conversion's own (an item
    the domain refuses, kept as a note), in line order."""
    builder = _Builder(report)
    front: dict[str, Any] = report.front_matter
    title = report.title or key_for(report.name)
    if len(title) > TITLE_LIMIT:
        builder.keep(
            "front matter",
            1,
            title,
            f"the title is longer than {TITLE_LIMIT} characters; the full title is kept as a note",
        )
        title = title[: TITLE_LIMIT - 1].rstrip() + "…"
    severity = str(front.get("severity", "")).upper()
    timeline = builder.events()
    disorder = any(flag.code == "moment-order" for flag in report.flags)
    prose = {part: safe_prose(text.split("\n")) for part, text in report.prose.items()}
    postmortem_parts: dict[str, Any] = dict(
        analysis=RootCauseAnalysis(trigger=prose.get("analysis", "")),
        impact=Impact(narrative=prose.get("impact", "")),
        response=ResponseEvaluation(
            detection_notes=prose.get("response", ""),
            went_well=builder.lines_of("went_well"),
            went_wrong=builder.lines_of("went_wrong"),
            got_lucky=builder.lines_of("got_lucky"),
        ),
        lessons=tuple(Lesson(text=text) for text in builder.lines_of("lessons")),
        action_items=builder.actions(),
        participants=builder.participants(),
    )
    summary = "\n\n".join(part for part in (prose.get("summary", ""), builder.notes()) if part)
    services = front.get("services") or front.get("service") or ()
    tags = front.get("tags") or ()
    resolved = any(event.key_moment is KeyMoment.RESOLVED for event in timeline)
    postmortem = Postmortem(
        key=key or key_for(report.name),
        title=title,
        severity=Severity(severity) if severity in Severity.__members__ else Severity.SEV3,
        status=IncidentStatus.RESOLVED if resolved else IncidentStatus.INVESTIGATING,
        summary=summary,
        services=tuple(str(s) for s in ([services] if isinstance(services, str) else services)),
        tags=tuple(str(t) for t in ([tags] if isinstance(tags, str) else tags)),
        timeline=timeline,
        moment_order_note=(
            "Imported from an archived report whose key times are out of order; kept as written"
            if disorder
            else ""
        ),
        **postmortem_parts,
    )
    flags = sorted((*report.flags, *builder.flags), key=lambda flag: flag.line)
    return postmortem, tuple(flags)
