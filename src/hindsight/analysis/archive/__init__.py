"""The archive reader: other teams' postmortems (Markdown with or without front matter, PDF)
mapped to Hindsight's parts, pure (bytes in, values out).

Public API (stable; the blameless-language reviewer and the importer use it):

    read_report(data, name, *, zone=None, layout="auto", headings=DEFAULT_HEADINGS)
        -> ArchiveReport

`ArchiveReport` has `title`, `parts` (each a `ReportPart` with its heading and `SourceLine`s,
numbered as in the original file), `events`, `actions`, `prose`, `notes`, `flags` (`Flag` with
`line`, `code`, `message`), `placements` (where every non-blank line went) and
`to_postmortem(key=None)`. `HeadingTable.extended({...})` adds a team's own heading wording.
Unreadable input (binary, empty, a broken PDF) raises `ArchiveError` with the name and line.
"""

from __future__ import annotations

import re
import unicodedata

from hindsight.analysis.archive.convert import convert_report, key_for
from hindsight.analysis.archive.headings import DEFAULT_HEADINGS, HeadingTable
from hindsight.analysis.archive.model import (
    PARTS,
    ArchiveAction,
    ArchiveError,
    ArchiveEvent,
    ArchiveReport,
    Flag,
    Placement,
    ReportPart,
    SourceLine,
)
from hindsight.analysis.archive.reader import read_text_report

LAYOUTS = ("auto", "markdown", "pdf")
# Characters Hindsight never stores (domain/text.py): control, unassigned, private use…
_FORBIDDEN = {"Cc", "Cs", "Zl", "Zp", "Co", "Cn"}


def forbidden_character(text: str) -> int | None:
    """The position of the first character that cannot be stored, or None."""
    for match in re.finditer(r"[^\t\n\r]+", text):
        chunk = match.group(0)
        if chunk.isprintable():
            continue
        for offset, char in enumerate(chunk):
            if unicodedata.category(char) in _FORBIDDEN or char == "\ufeff":
                return match.start() + offset
    return None


MAX_REPORT_BYTES = 5 * 1024 * 1024

__all__ = [
    "DEFAULT_HEADINGS",
    "LAYOUTS",
    "MAX_REPORT_BYTES",
    "PARTS",
    "ArchiveAction",
    "ArchiveError",
    "ArchiveEvent",
    "ArchiveReport",
    "Flag",
    "HeadingTable",
    "Placement",
    "ReportPart",
    "SourceLine",
    "convert_report",
    "decode_report",
    "key_for",
    "read_report",
]


def decode_report(data: bytes, name: str) -> str:
    """The text of a Markdown report; binary or empty input raises ArchiveError."""
    if len(data) > MAX_REPORT_BYTES:
        raise ArchiveError(
            name,
            0,
            f"is {len(data):,} bytes; a report may be at most {MAX_REPORT_BYTES:,} bytes "
            "(split it, or import the PDF or Markdown form of the report alone)",
        )
    if not data.strip():
        raise ArchiveError(name, 0, "is empty; there is no report to import")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ArchiveError(
            name,
            line,
            "is not UTF-8 text (a binary file?); only Markdown and PDF reports can be imported",
        ) from None
    position = forbidden_character(text)
    if position is not None:
        line = text.count("\n", 0, position) + 1
        raise ArchiveError(
            name,
            line,
            f"is binary, not text (character {ord(text[position]):#06x}); only Markdown "
            "and PDF reports can be imported",
        )
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_report(
    data: bytes,
    name: str,
    *,
    zone: str | None = None,
    layout: str = "auto",
    headings: HeadingTable = DEFAULT_HEADINGS,
) -> ArchiveReport:
    """Read one report. `zone` is used when the document names none; `layout` is 'auto'
    (a PDF by its signature, otherwise Markdown), 'markdown' or 'pdf'."""
    if layout not in LAYOUTS:
        raise ArchiveError(name, 0, f"unknown format {layout!r}; use one of {', '.join(LAYOUTS)}")
    if zone:
        from hindsight.domain.timeline import resolve_zone

        try:
            resolve_zone(zone)
        except ValueError as error:
            raise ArchiveError(name, 0, f"--zone {error}") from None
    is_pdf = data[:5] == b"%PDF-"
    if layout == "pdf" or (layout == "auto" and is_pdf):
        if len(data) > MAX_REPORT_BYTES:
            decode_report(data, name)
        from hindsight.analysis.archive.pdf import pdf_text

        text = pdf_text(data, name)
        return read_text_report(text, name, zone=zone, headings=headings, layout="pdf")
    text = decode_report(data, name)
    return read_text_report(text, name, zone=zone, headings=headings, layout="markdown")
