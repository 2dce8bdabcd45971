"""Write a postmortem in the Markdown form: YAML front matter, one section per part."""

from __future__ import annotations

from typing import Any

import yaml

from hindsight.analysis.metrics import compute_response_metrics, format_duration
from hindsight.domain.codec import postmortem_to_dict
from hindsight.domain.incidents import Postmortem
from hindsight.rendering.form import (
    FORMAT_MARKER,
    FORMAT_VERSION,
    FRONT_MATTER_FIELDS,
    FRONT_MATTER_GROUPS,
    ITEM_ID_MARK,
    OPTIONAL_FRONT_MATTER,
    OPTIONAL_GROUP_FIELDS,
    Column,
    Section,
    Shape,
)
from hindsight.rendering.form import SECTIONS as FORM_SECTIONS
from hindsight.rendering.tables import render_table

COMPUTED_NOTE = "_Computed by Hindsight from the key moments in the timeline; edit those instead._"


def _front_matter(data: dict[str, Any]) -> str:
    matter: dict[str, Any] = {FORMAT_MARKER: FORMAT_VERSION}
    # Optional fields are written only when set, so most files stay as they were.
    matter.update(
        {n: data[n] for n in FRONT_MATTER_FIELDS if n not in OPTIONAL_FRONT_MATTER or data[n]}
    )
    for group, names in FRONT_MATTER_GROUPS.items():
        matter[group] = {name: data[group][name] for name in names}
    for path in OPTIONAL_GROUP_FIELDS:
        *parents, name = path
        holder: dict[str, Any] = matter
        for part in parents:
            holder = holder[part]
        if _is_empty(holder[name]):
            del holder[name]
    text = yaml.safe_dump(matter, sort_keys=False, allow_unicode=True, width=100)
    return f"---\n{text}---\n"


def _is_empty(value: Any) -> bool:
    """Nothing set: None, an empty list, or a mapping of empty values."""
    if isinstance(value, dict):
        return all(_is_empty(item) or item == "" for item in value.values())
    return value is None or value == []


def _lookup(data: dict[str, Any], path: str) -> Any:
    value: Any = data
    for name in path.split("."):
        value = value[name]
    return value


def format_provenance(items: list[dict[str, str]]) -> str:
    """'file.json#L12; other.log' — '#' is added after an origin holding '#' to keep it whole."""
    parts = []
    for item in items:
        origin, locator = item["origin"], item["locator"]
        parts.append(f"{origin}#{locator}" if locator or "#" in origin else origin)
    return "; ".join(parts)


def _cell(row: dict[str, Any], column: Column, number: int) -> str:
    if not column.field:
        return str(number)
    value = row[column.field]
    if column.field == "provenance":
        return format_provenance(value)
    return "" if value is None else str(value)


def _timeline_rows(postmortem: Postmortem) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = postmortem_to_dict(postmortem)["timeline"]
    for row, event in zip(rows, postmortem.timeline, strict=True):
        row["at"] = event.local_time.isoformat(sep=" ")
    return rows


def _metrics_table(postmortem: Postmortem) -> str:
    metrics = compute_response_metrics(postmortem)
    rows = [[label, format_duration(value)] for label, value in metrics.rows()]
    if metrics.impact_window:
        start, end = metrics.impact_window
        rows.append(["Impact window (UTC)", f"{start:%Y-%m-%d %H:%M} → {end:%Y-%m-%d %H:%M}"])
    return render_table(["Metric", "Value"], rows) + "\n\n" + COMPUTED_NOTE


def _section_body(section: Section, data: dict[str, Any], postmortem: Postmortem) -> str:
    if section.shape is Shape.NONE:
        return ""
    if section.shape is Shape.COMPUTED:
        return _metrics_table(postmortem)
    value = _lookup(data, section.field)
    if section.shape is Shape.PROSE:
        return str(value)
    if section.shape is Shape.BULLETS:
        return "\n".join(f"- {item}" for item in value)
    if section.shape is Shape.ITEMS:
        return "\n".join(f"- {item['text']} {ITEM_ID_MARK.format(item['id'])}" for item in value)
    rows = _timeline_rows(postmortem) if section.field == "timeline" else value
    if not rows:
        return ""
    header = [column.header for column in section.columns]
    cells = [[_cell(row, c, n) for c in section.columns] for n, row in enumerate(rows, start=1)]
    return render_table(header, cells)


def render_markdown(postmortem: Postmortem) -> str:
    """The Markdown form of a postmortem; reading it back gives the same postmortem."""
    data = postmortem_to_dict(postmortem)
    blocks = [_front_matter(data), f"# {postmortem.title}"]
    for section in FORM_SECTIONS:
        blocks.append(f"{'#' * section.level} {section.title}")
        body = _section_body(section, data, postmortem)
        if body:
            blocks.append(body)
    return "\n\n".join(blocks[1:]).join([blocks[0] + "\n", "\n"])
