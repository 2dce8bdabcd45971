"""Sentences of prose, each with the line it starts on, from plain text or from a Markdown
report written by any team. Pure; rule-based, because no maintained English model installs
from PyPI without a download step (see bench/language/README.md for what was checked).

Markdown structure is honoured the way a reader sees it: headings, code blocks, front matter,
HTML comments and link targets are not prose; a list item or table row is its own unit and
is then split into sentences; soft-wrapped lines of one paragraph are joined.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

# Abbreviations after which a full stop does not end a sentence.
_ABBREVIATIONS = frozenset(
    {
        "e.g",
        "i.e",
        "etc",
        "vs",
        "cf",
        "approx",
        "dr",
        "mr",
        "mrs",
        "ms",
        "prof",
        "inc",
        "ltd",
        "jr",
        "sr",
        "st",
        "no",
        "fig",
        "eg",
        "ie",
        "al",
        "ca",
        "a.m",
        "p.m",
        "u.s",
    }
)
_END = re.compile(r"([.!?]+)([\"')\]]*)(\s+)(?=[\"'(\[]?[A-Z0-9`*_])")
_LIST_MARK = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_HEADING = re.compile(r"^\s*#{1,6}\s")
_FENCE = re.compile(r"^\s*(?:```|~~~)")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_URL = re.compile(r"<?https?://\S+>?")
_HTML = re.compile(r"<[^>]{1,200}>")
_EMPHASIS = re.compile(r"(\*\*|__|\*|`)")


@dataclass(frozen=True)
class Sentence:
    """One sentence: its text (Markdown markup removed) and the 1-based line it starts on."""

    text: str
    line: int


def clean_markup(text: str) -> str:
    """Text as a reader sees it: link text kept, URLs, HTML tags and emphasis marks dropped."""
    text = _LINK.sub(r"\1", text)
    text = _URL.sub("", text)
    text = _HTML.sub("", text)
    text = _EMPHASIS.sub("", text)
    return re.sub(r"\s+", " ", text).strip()


def _ends_with_abbreviation(before: str) -> bool:
    word = before.rsplit(None, 1)[-1].rstrip(".").lower() if before.strip() else ""
    return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def split_sentences(text: str, line: int = 1) -> list[Sentence]:
    """Split one unit of prose (`line` is where it starts; newlines inside count)."""
    sentences: list[Sentence] = []
    start = 0
    for match in _END.finditer(text):
        if match.group(1) == "." and _ends_with_abbreviation(text[start : match.start() + 1]):
            continue
        end = match.end(2)
        _add(sentences, text, start, end, line)
        start = match.end()
    _add(sentences, text, start, len(text), line)
    return sentences


def _add(out: list[Sentence], text: str, start: int, end: int, line: int) -> None:
    piece = text[start:end]
    lead = len(piece) - len(piece.lstrip())
    cleaned = clean_markup(piece)
    if re.search(r"[A-Za-z]{2}", cleaned):
        out.append(Sentence(cleaned, line + text.count("\n", 0, start + lead)))


def _units(lines: list[str]) -> Iterator[tuple[int, str]]:
    """(first line, text) of each paragraph, list item and table row outside code blocks."""
    in_code = False
    current: list[str] = []
    first = 0

    def flush() -> Iterator[tuple[int, str]]:
        if current:
            yield first, "\n".join(current)
            current.clear()

    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip()
        if _FENCE.match(line):
            yield from flush()
            in_code = not in_code
            continue
        if in_code or (raw.startswith("    ") and not current and not _LIST_MARK.match(line)):
            continue
        if not line.strip() or _HEADING.match(line) or _TABLE_RULE.match(line):
            yield from flush()
            continue
        if line.lstrip().startswith("|"):
            yield from flush()
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            yield number, " — ".join(c for c in cells if c)
            continue
        if _LIST_MARK.match(line):
            yield from flush()
            line = _LIST_MARK.sub("", line, count=1)
        if not current:
            first = number
        current.append(line.strip())
    yield from flush()


def _body(text: str) -> tuple[list[str], int]:
    """The lines after YAML front matter and without HTML comments, and the offset."""
    lines = text.splitlines()
    offset = 0
    if lines and lines[0].strip() == "---":
        for index, line in enumerate(lines[1:], start=1):
            if line.strip() == "---":
                offset = index + 1
                break
    body = lines[offset:]
    joined = "\n".join(body)
    # Blank out comments but keep their newlines, so lines still count.
    joined = re.sub(r"<!--.*?-->", lambda m: "\n" * m.group(0).count("\n"), joined, flags=re.S)
    return joined.split("\n"), offset


def markdown_sentences(text: str) -> list[Sentence]:
    """Every prose sentence of a Markdown document, with its line in the document."""
    lines, offset = _body(text)
    found: list[Sentence] = []
    for first, unit in _units(lines):
        found += split_sentences(unit, first + offset)
    return found
