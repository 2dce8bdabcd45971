"""GitHub-flavoured Markdown tables whose cells survive a round trip exactly.

A cell escapes `\\` and `|` with a backslash, writes a line break as `<br>`, and writes `<` and
`&` as entities so that neither a literal `<br>` nor HTML in the text can be misread.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_ENCODE = str.maketrans({"\\": "\\\\", "|": "\\|", "\n": "<br>", "<": "&lt;", "&": "&amp;"})
_DECODE = re.compile(r"\\\\|\\\||<br\s*/?>|&lt;|&amp;")
_DECODED = {"\\\\": "\\", "\\|": "|", "&lt;": "<", "&amp;": "&"}
_DELIMITER_CELL = re.compile(r"^:?-{3,}:?$")


def encode_cell(value: str) -> str:
    """Text to a table cell."""
    return value.translate(_ENCODE)


def decode_cell(cell: str) -> str:
    """A table cell back to text."""
    return _DECODE.sub(lambda m: _DECODED.get(m.group(0), "\n"), cell.strip())


def render_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A table with a header row; cells are encoded here."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(encode_cell(cell) for cell in row) + " |")
    return "\n".join(lines)


def split_row(line: str) -> list[str]:
    """Split a table row on the pipes that are not escaped; cells stay encoded."""
    text = line.strip()
    if text.startswith("|"):
        text = text[1:]
    cells, current, index = [], "", 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            current += text[index : index + 2]
            index += 2
            continue
        if char == "|":
            cells.append(current)
            current = ""
        else:
            current += char
        index += 1
    if current.strip():
        cells.append(current)
    return cells


@dataclass(frozen=True)
class ParsedTable:
    """Header names as written, and data rows of decoded cells with their 0-based line index."""

    header: list[str]
    rows: list[tuple[int, list[str]]]


class TableError(ValueError):
    """A malformed table; `index` is the 0-based line it was found on."""

    def __init__(self, index: int, message: str) -> None:
        super().__init__(message)
        self.index = index


def parse_table(lines: Sequence[str], start: int) -> ParsedTable:
    """Parse the one table in `lines` (blank lines around it allowed); `start` offsets indexes."""
    content = [(start + i, line) for i, line in enumerate(lines) if line.strip()]
    if not content:
        return ParsedTable(header=[], rows=[])
    for index, line in content:
        if not line.lstrip().startswith("|"):
            raise TableError(index, "expected a table row starting with '|'")
    if len(content) < 2:
        raise TableError(content[0][0], "a table needs a header row and a '|---|' row")
    header = [decode_cell(cell) for cell in split_row(content[0][1])]
    delimiter = [cell.strip() for cell in split_row(content[1][1])]
    if len(delimiter) != len(header) or not all(_DELIMITER_CELL.match(c) for c in delimiter):
        raise TableError(content[1][0], "the second row must be '|---|' once per column")
    rows = []
    for index, line in content[2:]:
        cells = split_row(line)
        if len(cells) > len(header):
            raise TableError(
                index,
                f"row has {len(cells)} cells but the header has {len(header)}; "
                "write a '|' inside text as '\\|'",
            )
        cells += [""] * (len(header) - len(cells))
        rows.append((index, [decode_cell(cell) for cell in cells]))
    return ParsedTable(header=header, rows=rows)
