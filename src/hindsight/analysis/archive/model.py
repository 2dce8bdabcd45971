"""The values the archive reader returns: parts with their source lines, flags, placements."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Where a source line can go. The six parts of a postmortem, with the overview split into its
# summary and timeline and the response into its lists, plus the participants.
PARTS = (
    "summary",
    "timeline",
    "participants",
    "analysis",
    "impact",
    "response",
    "went_well",
    "went_wrong",
    "got_lucky",
    "lessons",
    "action_items",
)


class ArchiveError(ValueError):
    """A report that cannot be read at all (binary, empty, not a PDF…), with where and why."""

    def __init__(self, name: str, line: int, message: str) -> None:
        self.name, self.line, self.message = name, line, message
        where = f"{name}, line {line}" if line else name
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class SourceLine:
    """One line of the original file, numbered from 1 as an editor shows it."""

    number: int
    text: str


@dataclass(frozen=True)
class Flag:
    """Something in the report kept as written but worth a reader's eye (an inconsistency)."""

    line: int
    code: str
    message: str


@dataclass(frozen=True)
class Placement:
    """Where one non-blank source line went: a part and its role there (heading, event, item,
    note, prose, title, front matter, event time, date, zone, link reference)."""

    line: int
    part: str
    role: str


@dataclass(frozen=True)
class ArchiveEvent:
    """A timeline row as read: its time (aware; None when unreadable), the text as written."""

    line: int
    at: Any  # dt.datetime | None; Any keeps this module free of the datetime import cycle
    zone: str
    text: str
    key_moment: str | None = None
    lines: tuple[int, ...] = ()


@dataclass(frozen=True)
class ArchiveAction:
    """An action item as read from a bullet, checkbox or table row."""

    line: int
    title: str
    done: bool = False
    tracker_url: str = ""
    owner: str = ""
    kind: str = "prevent"


@dataclass(frozen=True)
class ReportPart:
    """One section of the report mapped to a part: its heading (as written) and its lines."""

    part: str
    heading: str
    heading_line: int
    lines: tuple[SourceLine, ...]


@dataclass(frozen=True)
class ArchiveReport:
    """A report read from another team's archive, before it becomes a `Postmortem`.

    `parts` are the sections in file order; `prose` holds each part's text kept verbatim (for
    parts whose Postmortem field is prose) and `notes` the text of list parts that is not an
    item; `flags` are the inconsistencies found; `placements` say where every non-blank line
    went. `to_postmortem` builds the domain value.
    """

    name: str
    layout: str
    title: str
    front_matter: dict[str, Any]
    parts: tuple[ReportPart, ...]
    events: tuple[ArchiveEvent, ...]
    actions: tuple[ArchiveAction, ...]
    items: dict[str, tuple[tuple[int, str], ...]]
    prose: dict[str, str]
    notes: tuple[tuple[str, SourceLine], ...]
    flags: tuple[Flag, ...]
    placements: tuple[Placement, ...]
    line_count: int
    zone: str = ""
    source_text: str = field(default="", repr=False)

    def lines_by_part(self) -> dict[str, list[int]]:
        """Source line numbers per part, in file order (what a dry run prints)."""
        result: dict[str, list[int]] = {}
        for placement in self.placements:
            result.setdefault(placement.part, []).append(placement.line)
        return result

    def to_postmortem(self, *, key: str | None = None) -> Any:
        """The report as a draft `Postmortem` (see convert.py); `key` defaults to the file's."""
        from hindsight.analysis.archive.convert import build_postmortem

        return build_postmortem(self, key=key)
