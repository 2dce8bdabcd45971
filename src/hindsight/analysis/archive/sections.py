"""Split a report into front matter, title and sections mapped to parts by the heading table."""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from typing import Any

import yaml

from hindsight.analysis.archive.clock import read_time
from hindsight.analysis.archive.headings import HeadingTable
from hindsight.analysis.archive.model import Flag, SourceLine

_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_LABEL = re.compile(
    r"^(?P<indent>\s*)(?:[-*+]\s+)?\*\*(?P<label>[^*]{1,60}?)\*\*\s*(?P<colon>:?)\s*(?P<rest>.*)$"
)
_FENCE = re.compile(r"^\s*(```|~~~)")
_FRONT = {"---": "yaml", "+++": "toml", ";;;": "json"}
PROSE_PARTS = ("summary", "analysis", "impact", "response")


@dataclass
class Section:
    """A run of lines under one heading, mapped to a part."""

    part: str
    heading: str
    heading_line: int
    level: int
    lines: list[SourceLine] = field(default_factory=list)


@dataclass
class Split:
    """The report cut into pieces; `structure` lists lines consumed as markup (with roles)."""

    front_matter: dict[str, Any]
    front_lines: list[SourceLine]
    title: str
    title_lines: list[int]
    sections: list[Section]
    structure: dict[int, str]
    flags: list[Flag]
    recognised: bool


def _front_matter(lines: list[str], flags: list[Flag]) -> tuple[dict[str, Any], int]:
    """Parse a '---' (YAML), '+++' (TOML) or ';;;' (JSON, Middleman) block; returns the values
    and the index of the first body line. ERB tags in the body are kept as text."""
    opener = lines[0].strip() if lines else ""
    kind = _FRONT.get(opener)
    if kind is None:
        return {}, 0
    for index in range(1, len(lines)):
        if lines[index].strip() == opener:
            block = "\n".join(lines[1:index])
            try:
                if kind == "yaml":
                    values = yaml.safe_load(block) or {}
                elif kind == "toml":
                    values = tomllib.loads(block)
                else:
                    values = json.loads(
                        "{" + block + "}" if not block.strip().startswith("{") else block
                    )
            except (yaml.YAMLError, tomllib.TOMLDecodeError, json.JSONDecodeError) as error:
                flags.append(
                    Flag(
                        1,
                        "front-matter",
                        f"the front matter cannot be read ({type(error).__name__}); its lines "
                        f"are kept as notes",
                    )
                )
                return {}, -index - 1
            if not isinstance(values, dict):
                flags.append(
                    Flag(
                        1,
                        "front-matter",
                        "the front matter is not a mapping of names to values; its lines are "
                        "kept as notes",
                    )
                )
                return {}, -index - 1
            return values, index + 1
    return {}, 0


def heading_of(line: str, *, pdf: bool, table: HeadingTable) -> tuple[int, str] | None:
    """(level, text) when the line is a heading: '## Impact', a bold label that is a known
    heading ('- **Impact**: …', '**Timeline**'), or in a PDF a short line that is one."""
    match = _HEADING.match(line)
    if match:
        return len(match.group(1)), match.group(2)
    label = _LABEL.match(line)
    if label and table.match(label.group("label"), whole=True):
        return 10 + len(label.group("indent")), label.group("label")
    if pdf and len(line.strip()) <= 60 and table.match(line.strip(), whole=True):
        return 2, line.strip()
    return None


def label_rest(line: str) -> str:
    """The text after a bold label ('- **Impact**: none' -> 'none'); '' for a heading."""
    label = _LABEL.match(line)
    return label.group("rest").strip() if label and not _HEADING.match(line) else ""


def split_report(text: str, *, table: HeadingTable, pdf: bool) -> Split:  # noqa: C901
    """Cut the text into front matter, title and sections."""
    raw = text.split("\n")
    flags: list[Flag] = []
    values, start = _front_matter(raw, flags)
    structure: dict[int, str] = {}
    front_lines: list[SourceLine] = []
    if start < 0:  # unreadable front matter: its lines are notes of the summary
        start = -start
        values = {}
        front_lines = [SourceLine(n + 1, raw[n]) for n in range(start) if raw[n].strip()]
    elif start > 0:
        structure[1] = structure[start] = "front matter"
        for n in range(1, start - 1):
            if raw[n].strip():
                front_lines.append(SourceLine(n + 1, raw[n]))
    title = (
        str(values.get("title", "")).strip()
        if isinstance(values.get("title"), str | int | float)
        else ""
    )
    title_lines: list[int] = []
    sections = [Section("summary", "", 0, 0)]
    recognised = False
    fence = ""
    for index in range(start, len(raw)):
        number, line = index + 1, raw[index].rstrip("\r")
        if fence:
            sections[-1].lines.append(SourceLine(number, line))
            if line.strip().startswith(fence):
                fence = ""
            continue
        opened = _FENCE.match(line)
        if opened:
            fence = opened.group(1)
            sections[-1].lines.append(SourceLine(number, line))
            continue
        heading = None if not line.strip() else heading_of(line, pdf=pdf, table=table)
        if pdf and not title and line.strip() and not heading and len(line.strip()) <= 200:
            heading = (1, line.strip())  # a PDF's first line of text is its title
        if (
            heading
            and heading[0] == 1
            and not title_lines
            and (not title or _same(title, heading[1]))
        ):
            title = title or heading[1]
            title_lines.append(number)
            structure[number] = "title"
            continue
        if heading:
            level, words = heading
            part = table.match(words, whole=level >= 10)
            current = sections[-1]
            if current.part == "timeline" and read_time(words, compact=True) is not None:
                # '### 9:00 Summary posted', '## May 12': timeline rows, not sections.
                sections[-1].lines.append(SourceLine(number, line))
                continue
            if part is not None and not (
                current.part == "timeline" and part == "timeline" and level > current.level
            ):
                recognised = True
                sections.append(Section(part, words, number, level))
                if level >= 10 and part in PROSE_PARTS:
                    sections[-1].lines.append(SourceLine(number, line))  # '**Impact**: …' reads on
                    continue
                structure[number] = f"heading {part}"
                rest = label_rest(line)
                if rest:
                    sections[-1].lines.append(SourceLine(number, rest))
                continue
            if (
                current.level
                and level <= current.level
                and level < 10
                and current.part != "summary"
            ):
                # An unknown heading beside a known one: its text belongs to the overview.
                sections.append(Section("summary", words, number, level))
        sections[-1].lines.append(SourceLine(number, line))
    if fence:
        flags.append(
            Flag(
                len(raw),
                "unclosed-fence",
                f"a code block ({fence}) is never closed; it is kept to the end of the file",
            )
        )
    return Split(values, front_lines, title, title_lines, sections, structure, flags, recognised)


def _same(left: str, right: str) -> bool:
    return re.sub(r"\W+", "", left.lower()) == re.sub(r"\W+", "", right.lower())
