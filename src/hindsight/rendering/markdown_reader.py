"""Read the Markdown form back into a postmortem, or say exactly where and why it cannot.

Steps: split off the front matter; parse it as YAML, keeping each key's line; split the body
into the known sections; read each section in its shape; validate the whole through the
domain; map every problem's field path back to the line it came from.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

import yaml

from hindsight.domain.codec import InvalidPostmortemError, Path, postmortem_from_dict
from hindsight.domain.incidents import Postmortem
from hindsight.domain.text import iter_headings
from hindsight.errors import DocumentError, Located
from hindsight.rendering.form import (
    FORMAT_MARKER,
    FORMAT_VERSION,
    FRONT_MATTER_FIELDS,
    FRONT_MATTER_GROUPS,
    SECTIONS,
    Section,
    Shape,
)
from hindsight.rendering.tables import TableError, parse_table

Locations = dict[Path, int]
_BY_TITLE = {section.title.lower(): section for section in SECTIONS}


class _Reader:
    """Collects problems and field locations (1-based lines) while reading one file."""

    def __init__(self, source: str, text: str) -> None:
        self.source = source
        self.lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        self.locations: Locations = {}
        self.problems: list[Located] = []

    def fail(self, line: int, field: str, reason: str) -> None:
        self.problems.append(Located(self.source, line, field, reason))

    def raise_if_failed(self) -> None:
        if self.problems:
            raise DocumentError(self.problems)

    # -- front matter -------------------------------------------------------------------------

    def front_matter(self) -> tuple[dict[str, Any], int]:
        """The parsed front matter and the 0-based index of the first body line."""
        if not self.lines or self.lines[0].strip() != "---":
            self.fail(1, "", "the file must start with a '---' line opening the YAML front matter")
            self.raise_if_failed()
        end = next((i for i, text in enumerate(self.lines[1:], 1) if text.rstrip() == "---"), None)
        if end is None:
            self.fail(1, "", "the front matter opened on line 1 is never closed by a '---' line")
            self.raise_if_failed()
        assert end is not None
        text = "\n".join(self.lines[1:end])
        try:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
            data = yaml.safe_load(text)
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            line = mark.line + 2 if mark is not None else 1
            reason = getattr(error, "problem", None) or str(error)
            self.fail(line, "front matter", f"not valid YAML: {reason}")
            self.raise_if_failed()
        if not isinstance(data, dict):
            self.fail(2, "front matter", "must be a mapping of 'field: value' lines")
            self.raise_if_failed()
        self._record_yaml_lines(node, (), offset=2)
        return data, end + 1

    def _record_yaml_lines(self, node: yaml.Node | None, path: Path, offset: int) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                child = (*path, str(key.value))
                self.locations[child] = key.start_mark.line + offset
                self._record_yaml_lines(value, child, offset)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self.locations[(*path, index)] = item.start_mark.line + offset
                self._record_yaml_lines(item, (*path, index), offset)

    def structured_fields(self, matter: dict[str, Any]) -> dict[str, Any]:
        marker = matter.pop(FORMAT_MARKER, None)
        if marker != FORMAT_VERSION:
            line = self.locations.get((FORMAT_MARKER,), 2)
            self.fail(
                line,
                FORMAT_MARKER,
                f"must be {FORMAT_VERSION} (the format version), found {marker!r}",
            )
        known = set(FRONT_MATTER_FIELDS) | set(FRONT_MATTER_GROUPS)
        for name in matter:
            if name not in known:
                self.fail(
                    self.locations.get((str(name),), 2),
                    str(name),
                    f"is not a front matter field; known fields: {', '.join(sorted(known))}",
                )
        return {name: value for name, value in matter.items() if name in known}

    # -- body -----------------------------------------------------------------------------------

    def body(self, start: int, title: object) -> dict[str, Any]:
        lines = self.lines[start:]
        headings = list(iter_headings(lines))
        if not headings or headings[0].level != 1:
            self.fail(start + 1, "title", "the body must start with a '# Title' heading")
            return {}
        first = headings[0]
        if title is None:
            self.fail(2, "title", f"is required: add 'title: {first.text}' to the front matter")
        elif str(first.text) != str(title):
            self.fail(
                start + first.index + 1,
                "title",
                f"the heading '# {first.text}' differs from the front matter title "
                f"'{title}'; make them the same",
            )
        fields: dict[str, Any] = {}
        bounds = [h.index for h in headings[1:]] + [len(lines)]
        self._check_stray_text(lines, first.index + 1, bounds[0], start)
        for heading, end in zip(headings[1:], bounds[1:], strict=True):
            line = start + heading.index + 1
            section = _BY_TITLE.get(heading.text.strip().lower())
            if section is None or section.level != heading.level:
                self.fail(
                    line,
                    "",
                    f"unknown section '{'#' * heading.level} {heading.text}'; "
                    f"the sections are: {', '.join(s.title for s in SECTIONS)}",
                )
                continue
            content = lines[heading.index + 1 : end]
            self._read_section(section, content, start + heading.index + 1, fields)
        return fields

    def _check_stray_text(self, lines: Sequence[str], begin: int, end: int, start: int) -> None:
        for offset, line in enumerate(lines[begin:end]):
            if line.strip():
                self.fail(
                    start + begin + offset + 1,
                    "",
                    "text between the title and '## Overview' belongs to no field; "
                    "move it under '## Overview'",
                )
                return

    def _read_section(
        self, section: Section, content: list[str], first: int, fields: dict[str, Any]
    ) -> None:
        """`first` is the 0-based index of the line after the heading."""
        path = tuple(section.field.split(".")) if section.field else ()
        if path:
            self.locations.setdefault(path, first)
        if section.shape is Shape.COMPUTED:
            return
        if section.shape is Shape.NONE:
            self._check_empty(section, content, first)
            return
        if section.shape is Shape.PROSE:
            value: Any = "\n".join(content).strip()
        elif section.shape is Shape.BULLETS:
            value = self._bullets(section, content, first, path)
        elif section.shape is Shape.ITEMS:
            value = [_item_bullet(text) for text in self._bullets(section, content, first, path)]
        else:
            value = self._table(section, content, first, path)
        target = fields
        for name in path[:-1]:
            target = target.setdefault(str(name), {})
        target[str(path[-1])] = value

    def _check_empty(self, section: Section, content: list[str], first: int) -> None:
        for offset, line in enumerate(content):
            if line.strip():
                self.fail(
                    first + offset + 1,
                    "",
                    f"text directly under '## {section.title}' "
                    "belongs to no field; put it under one of its '###' headings",
                )
                return

    def _bullets(self, section: Section, content: list[str], first: int, path: Path) -> list[str]:
        items: list[str] = []
        for offset, line in enumerate(content):
            if not line.strip():
                continue
            stripped = line.strip()
            if stripped[:2] not in ("- ", "* ") and stripped not in ("-", "*"):
                self.fail(
                    first + offset + 1,
                    section.field,
                    "expected a '- ' list item (one statement per line)",
                )
                continue
            self.locations[(*path, len(items))] = first + offset + 1
            items.append(stripped[2:])
        return items

    def _table(
        self, section: Section, content: list[str], first: int, path: Path
    ) -> list[dict[str, Any]]:
        try:
            table = parse_table(content, first)
        except TableError as error:
            self.fail(error.index + 1, section.field, str(error))
            return []
        by_header = {column.header.lower(): column for column in section.columns}
        columns = []
        for header in table.header:
            column = by_header.get(header.strip().lower())
            if column is None:
                self.fail(
                    first + 1,
                    section.field,
                    f"unknown column '{header}'; the columns are: "
                    f"{', '.join(c.header for c in section.columns)}",
                )
                return []
            columns.append(column)
        rows: list[dict[str, Any]] = []
        for index, cells in table.rows:
            self.locations[(*path, len(rows))] = index + 1
            row: dict[str, Any] = {}
            for column, cell in zip(columns, cells, strict=True):
                if column.field and cell != "":
                    row[column.field] = _cell_value(column.field, cell)
                    self.locations[(*path, len(rows), column.field)] = index + 1
            if "provenance" in row:
                row["provenance"] = provenance_from_text(row["provenance"])
            rows.append(row)
        return rows

    # -- validation ------------------------------------------------------------------------------

    def line_for(self, path: Path) -> int:
        for length in range(len(path), 0, -1):
            if path[:length] in self.locations:
                return self.locations[path[:length]]
        return 0


_ID_MARK = re.compile(r"^(.*?)[ \t]*<!-- id: ([a-z]{2}-[0-9a-z]{4,16}) -->$", re.DOTALL)


def _item_bullet(text: str) -> dict[str, str]:
    """'Text <!-- id: ls-3f9a2c -->' → {'text': 'Text', 'id': 'ls-3f9a2c'}; no mark, no id."""
    match = _ID_MARK.match(text)
    if match is None:
        return {"text": text}
    return {"text": match.group(1), "id": match.group(2)}


def _cell_value(field: str, cell: str) -> Any:
    """Times are parsed here (the standard library reads every ISO offset); the rest is text."""
    if field == "at":
        try:
            return dt.datetime.fromisoformat(cell)
        except ValueError:
            return cell
    return cell


def provenance_from_text(text: str) -> list[dict[str, str]]:
    """Parse a provenance cell: 'origin#locator; origin'."""
    items = []
    for part in text.split(";"):
        part = part.strip()
        if part:
            origin, sep, locator = part.rpartition("#")
            items.append({"origin": origin, "locator": locator} if sep else {"origin": part})
    return items


def read_markdown(text: str, source: str = "<text>") -> Postmortem:
    """Parse the Markdown form; raise DocumentError naming file, line and field of each fault."""
    reader = _Reader(source, text)
    matter, body_start = reader.front_matter()
    data = reader.structured_fields(matter)
    body = reader.body(body_start, data.get("title"))
    for group, values in body.items():
        if isinstance(values, dict) and isinstance(data.get(group), dict):
            data[group] = {**data[group], **values}
        elif isinstance(values, dict) and group in data:
            reader.fail(reader.line_for((group,)), group, "must be a mapping of fields")
        else:
            data[group] = values
    reader.raise_if_failed()
    try:
        return postmortem_from_dict(data)
    except InvalidPostmortemError as error:
        for problem in error.problems:
            reader.fail(reader.line_for(problem.path), problem.field, problem.message)
        raise DocumentError(reader.problems) from None
