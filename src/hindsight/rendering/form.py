"""The layout of the Markdown form, shared by the writer and the reader so they cannot drift.

Each `##` part and `###` subsection holds one field, in one of five shapes: prose, a bullet
list, a bullet list of items with ids, a table (items' ids in its last column), or a table
Hindsight computes (written for readers, ignored when read back).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from hindsight.domain.impact import Impact
from hindsight.domain.response import ResponseEvaluation


class Shape(Enum):
    """How a section's content is written."""

    PROSE = "prose"
    BULLETS = "bullets"
    TABLE = "table"
    ITEMS = "items"  # bullets of items with ids: '- text <!-- id: ls-3f9a2c -->'
    COMPUTED = "computed"
    NONE = "none"


@dataclass(frozen=True)
class Column:
    """A table column: its header and the field it fills ('' for a column only for readers)."""

    header: str
    field: str


@dataclass(frozen=True)
class Section:
    """A heading, its level, the field path it fills (dotted) and the shape of its content."""

    title: str
    level: int
    field: str
    shape: Shape
    columns: tuple[Column, ...] = ()


PARTICIPANT_COLUMNS = (
    Column("Name", "name"),
    Column("Role", "role"),
    Column("Team", "team"),
    Column("Id", "id"),
)
TIMELINE_COLUMNS = (
    Column("Time", "at"),
    Column("Zone", "zone"),
    Column("Event", "text"),
    Column("Kind", "kind"),
    Column("Actor", "actor"),
    Column("Source", "source"),
    Column("Key moment", "key_moment"),
    Column("Provenance", "provenance"),
    Column("Id", "id"),
)
FACTOR_COLUMNS = (
    Column("Category", "category"),
    Column("Factor", "description"),
    Column("Id", "id"),
)
WHY_COLUMNS = (
    Column("#", ""),
    Column("Why?", "question"),
    Column("Because", "answer"),
    Column("Id", "id"),
)
ACTION_COLUMNS = (
    Column("#", ""),
    Column("Action", "title"),
    Column("Kind", "kind"),
    Column("Owner", "owner"),
    Column("Priority", "priority"),
    Column("Due", "due"),
    Column("Status", "status"),
    Column("Reason", "reason"),
    Column("Tracker", "tracker_url"),
    Column("Id", "id"),
)

SECTIONS: tuple[Section, ...] = (
    Section("Overview", 2, "summary", Shape.PROSE),
    Section("Public summary", 3, "public_summary", Shape.PROSE),
    Section("Participants", 3, "participants", Shape.TABLE, PARTICIPANT_COLUMNS),
    Section("Timeline", 3, "timeline", Shape.TABLE, TIMELINE_COLUMNS),
    Section("Root cause analysis", 2, "", Shape.NONE),
    Section("Trigger", 3, "analysis.trigger", Shape.PROSE),
    Section("Root causes", 3, "analysis.root_causes", Shape.BULLETS),
    Section(
        "Contributing factors", 3, "analysis.contributing_factors", Shape.TABLE, FACTOR_COLUMNS
    ),
    Section("Five whys", 3, "analysis.five_whys", Shape.TABLE, WHY_COLUMNS),
    Section("Impact", 2, "impact.narrative", Shape.PROSE),
    Section("Response", 2, "", Shape.NONE),
    Section("Response metrics", 3, "", Shape.COMPUTED),
    Section("Detection", 3, "response.detection_notes", Shape.PROSE),
    Section("What went well", 3, "response.went_well", Shape.BULLETS),
    Section("What went wrong", 3, "response.went_wrong", Shape.BULLETS),
    Section("Where we got lucky", 3, "response.got_lucky", Shape.BULLETS),
    Section("Communications", 3, "response.communications", Shape.PROSE),
    Section("Lessons learned", 2, "lessons", Shape.ITEMS),
    Section("Action items", 2, "action_items", Shape.TABLE, ACTION_COLUMNS),
)

# Front matter holds the structured fields: the overview's scalars and lists, and every field of
# the impact and response parts that no section above holds as text.
FRONT_MATTER_FIELDS = (
    "key",
    "title",
    "severity",
    "status",
    "review_status",
    "visibility",
    "services",
    "tags",
    "moment_order_note",
)
OPTIONAL_FRONT_MATTER = frozenset({"moment_order_note"})


def _not_in_sections(part: str, names: tuple[str, ...]) -> tuple[str, ...]:
    in_sections = {section.field for section in SECTIONS}
    return tuple(name for name in names if f"{part}.{name}" not in in_sections)


FRONT_MATTER_GROUPS = {
    "impact": _not_in_sections("impact", tuple(Impact.__dataclass_fields__)),
    "response": _not_in_sections("response", tuple(ResponseEvaluation.__dataclass_fields__)),
}
# Impact fields added after FORMAT_VERSION 1 (issue 13) are written only when set, so files
# written before them keep their bytes; the reader gives a missing one its empty value.
OPTIONAL_GROUP_FIELDS = (
    ("impact", "burn_rate"),
    ("impact", "slo"),
    ("impact", "sources"),
    ("impact", "data_loss", "last_good_backup_at"),
    ("impact", "cost", "hourly_cost"),
    ("impact", "cost", "lines"),
)
FORMAT_MARKER = "hindsight"
# How an item's id follows its text in a bullet: an HTML comment, invisible when rendered.
ITEM_ID_MARK = "<!-- id: {} -->"
FORMAT_VERSION = 1
