"""The editable parts of the postmortem page, described once and used to draw and read forms.

A section form edits fields of the postmortem by path; a list editor adds, changes and removes
items of one list (timeline, participants, contributing factors, whys, action items). Both go
through the same path editing as the CLI and the API, so validation is the domain's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from hindsight.domain.actions import ActionKind, ActionStatus, Priority
from hindsight.domain.codec import postmortem_to_dict
from hindsight.domain.editing import set_fields
from hindsight.domain.identity import label_of
from hindsight.domain.impact import SloObjective
from hindsight.domain.incidents import (
    IncidentStatus,
    ParticipantRole,
    Postmortem,
    Severity,
    Visibility,
)
from hindsight.domain.response import DetectionMethod
from hindsight.domain.timeline import EventKind, KeyMoment, localize, resolve_zone


def _choices(enum: type[StrEnum]) -> tuple[str, ...]:
    return tuple(member.value for member in enum)


@dataclass(frozen=True)
class Field:
    """One form field: the postmortem path it edits and how it is drawn."""

    path: str
    label: str
    widget: str = "text"  # text, prose, number, select, lines, datetime, date, url
    choices: tuple[str, ...] = ()
    optional: bool = False
    hint: str = ""
    none_when_blank: bool = False

    @property
    def name(self) -> str:
        """The form field's name (the last part of the path for list items)."""
        return self.path


def _read(spec: Field, raw: str) -> Any:
    """Form text to the value the path editor takes."""
    if spec.widget == "lines":
        return [line.strip() for line in raw.splitlines() if line.strip()]
    blank_is_none = (
        spec.none_when_blank
        or spec.widget in ("number", "date")
        or (spec.widget == "select" and spec.optional)
    )
    if blank_is_none and raw.strip() == "":
        return None
    return raw


def _show(spec: Field, value: Any) -> str:
    """A stored value as form text."""
    if value is None:
        return ""
    if spec.widget == "lines":
        return "\n".join(value)
    return str(value)


@dataclass(frozen=True)
class Section:
    """An editable part of the page."""

    name: str
    title: str
    fields: tuple[Field, ...]


_IMPACT_NUMBERS = (
    ("users_affected", "Users affected"),
    ("failed_requests", "Failed requests"),
    ("downtime_minutes", "Downtime (minutes)"),
    ("slo_target_percent", "SLO target (%)"),
    ("error_budget_burned_percent", "Error budget burned (%)"),
    ("burn_rate", "Burn rate"),
    ("support_tickets", "Support tickets"),
    ("data_loss.records_lost", "Records lost"),
    ("data_loss.records_recovered", "Records recovered"),
    ("data_loss.records_unrecoverable", "Records unrecoverable"),
    ("data_loss.rpo_target_minutes", "RPO target (min)"),
    ("data_loss.rpo_achieved_minutes", "RPO achieved (min)"),
    ("data_loss.rto_target_minutes", "RTO target (min)"),
    ("data_loss.rto_achieved_minutes", "RTO achieved (min)"),
    ("cost.responder_hours", "Responder hours"),
    ("cost.business_cost", "Business cost"),
    ("cost.hourly_cost", "Hourly cost of a responder"),
    ("slo.window_days", "SLO window (days)"),
    ("slo.latency_threshold_ms", "SLO latency threshold (ms)"),
)
LINES_HINT = "One per line."

SECTIONS: dict[str, Section] = {
    section.name: section
    for section in (
        Section(
            "overview",
            "Overview",
            (
                Field("title", "Title"),
                Field("severity", "Severity", "select", _choices(Severity)),
                Field("status", "Incident status", "select", _choices(IncidentStatus)),
                Field(
                    "visibility",
                    "Visibility",
                    "select",
                    _choices(Visibility),
                    hint="Restricted: only members and admins can see it.",
                ),
                Field("services", "Affected services", "lines", hint=LINES_HINT),
                Field("tags", "Tags", "lines", hint=LINES_HINT),
                Field("summary", "Summary", "prose", hint="Markdown."),
                Field(
                    "public_summary",
                    "Public summary",
                    "prose",
                    hint="What customers may read: no internal names, hosts or people. "
                    "The external report shows only this, the title and the times.",
                ),
            ),
        ),
        Section(
            "analysis",
            "Root cause analysis",
            (
                Field("analysis.trigger", "Trigger", "prose"),
                Field("analysis.root_causes", "Root causes", "lines", hint=LINES_HINT),
            ),
        ),
        Section(
            "impact",
            "Impact",
            (
                *(
                    Field(f"impact.{path}", label, "number", optional=True)
                    for path, label in _IMPACT_NUMBERS
                ),
                Field(
                    "impact.cost.currency",
                    "Currency (ISO code)",
                    optional=True,
                    none_when_blank=True,
                ),
                Field("impact.slo.service", "SLO service", optional=True),
                Field(
                    "impact.slo.objective",
                    "SLO objective",
                    "select",
                    _choices(SloObjective),
                    optional=True,
                    hint="Availability: good / total requests; latency: time under the threshold.",
                ),
                Field(
                    "impact.data_loss.last_good_backup_at",
                    "Last good backup (ISO 8601 with zone)",
                    optional=True,
                    none_when_blank=True,
                    hint="For RPO achieved, e.g. 2024-05-01T03:00:00Z.",
                ),
                Field("impact.narrative", "Narrative", "prose"),
            ),
        ),
        Section(
            "response",
            "Response",
            (
                Field(
                    "response.detection_method",
                    "Detection method",
                    "select",
                    _choices(DetectionMethod),
                    optional=True,
                ),
                Field("response.detection_notes", "How it was detected", "prose"),
                Field("response.went_well", "What went well", "lines", hint=LINES_HINT),
                Field("response.went_wrong", "What went wrong", "lines", hint=LINES_HINT),
                Field("response.got_lucky", "Where we got lucky", "lines", hint=LINES_HINT),
                Field("response.communications", "Communications", "prose"),
                Field("response.teams", "Teams involved", "lines", hint=LINES_HINT),
            ),
        ),
    )
}


def section_values(section: Section, postmortem: Postmortem) -> dict[str, str]:
    """The section's current values as form text."""
    data = postmortem_to_dict(postmortem)
    values = {}
    for spec in section.fields:
        value: Any = data
        for part in spec.path.split("."):
            value = value[part]
        values[spec.path] = _show(spec, value)
    return values


def apply_section(section: Section, form: Mapping[str, str]) -> Callable[[Postmortem], Postmortem]:
    """A change that sets every field of the section from the submitted form."""

    def change(postmortem: Postmortem) -> Postmortem:
        # All fields at once, validated together: business cost and its currency may be set
        # in one save whatever their order.
        values = {spec.path: _read(spec, form.get(spec.path, "")) for spec in section.fields}
        return set_fields(postmortem, values)

    return change


class FormError(ValueError):
    """A form value that cannot even be turned into a field value."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class ListEditor:
    """Add, change and remove items of one list of the postmortem."""

    name: str
    path: str
    title: str
    fields: tuple[Field, ...]
    to_item: Callable[[Mapping[str, str], str], dict[str, Any]] = field(repr=False)
    to_form: Callable[[Any, str], dict[str, str]] = field(repr=False)


def _plain_item(fields: tuple[Field, ...]) -> Callable[[Mapping[str, str], str], dict[str, Any]]:
    def to_item(form: Mapping[str, str], _zone: str) -> dict[str, Any]:
        return {f.path: _read(f, form.get(f.path, "")) for f in fields}

    return to_item


def _plain_form(fields: tuple[Field, ...]) -> Callable[[Any, str], dict[str, str]]:
    def to_form(item: Any, _zone: str) -> dict[str, str]:
        data = item if isinstance(item, dict) else item.__dict__
        return {f.path: _show(f, data.get(f.path)) for f in fields}

    return to_form


_EVENT_FIELDS = (
    Field("at", "Time", "datetime", hint="In the zone below."),
    Field("zone", "Zone", "text", hint="IANA name, e.g. Europe/Berlin, or UTC."),
    Field("text", "What happened", "prose"),
    Field("kind", "Kind", "select", _choices(EventKind)),
    Field("actor", "Actor", "text", optional=True),
    Field("source", "Source", "text"),
    Field("key_moment", "Key moment", "select", _choices(KeyMoment), optional=True),
)


def _event_item(form: Mapping[str, str], zone: str) -> dict[str, Any]:
    item = _plain_item(_EVENT_FIELDS)(form, zone)
    written_zone = (form.get("zone") or zone).strip() or "UTC"
    raw = form.get("at", "").strip()
    try:
        when = localize(dt.datetime.fromisoformat(raw), written_zone)
        resolve_zone(written_zone)
    except ValueError as error:
        message = (
            str(error)
            if "zone" in str(error)
            else (f"'{raw}' is not a time; use the picker or write 2024-03-05T14:30")
        )
        raise FormError("zone" if "zone" in str(error) else "at", message) from None
    item.update(at=when, zone=written_zone, source=item["source"] or "manual")
    return item


def _event_form(event: Any, _zone: str) -> dict[str, str]:
    local = event.local_time
    values = _plain_form(_EVENT_FIELDS)(event, _zone)
    values["at"] = local.strftime("%Y-%m-%dT%H:%M:%S")
    return values


_PARTICIPANT_FIELDS = (
    Field("name", "Name"),
    Field("role", "Role", "select", _choices(ParticipantRole)),
    Field("team", "Team", optional=True),
)
_FACTOR_FIELDS = (
    Field("category", "Category", "select"),
    Field("description", "Factor"),
)
_WHY_FIELDS = (Field("question", "Why?"), Field("answer", "Because"))
_ACTION_FIELDS = (
    Field("title", "Action", hint="Start with a verb; keep it bounded."),
    Field("kind", "Kind", "select", _choices(ActionKind)),
    Field("owner", "Owner", optional=True),
    Field("priority", "Priority", "select", _choices(Priority)),
    Field("due", "Due", "date", optional=True),
    Field("status", "Status", "select", _choices(ActionStatus)),
    Field("reason", "Reason (required for won't do)", optional=True),
    Field("tracker_url", "Tracker link", "url", optional=True),
)

_LESSON_FIELDS = (Field("text", "Lesson", hint="One short, actionable statement."),)
# The action-item fields that may still change once the postmortem is published.
PUBLISHED_ACTION_FIELDS = frozenset({"status", "reason"})

LISTS: dict[str, ListEditor] = {
    editor.name: editor
    for editor in (
        ListEditor("timeline", "timeline", "Timeline", _EVENT_FIELDS, _event_item, _event_form),
        ListEditor(
            "participants",
            "participants",
            "Participants",
            _PARTICIPANT_FIELDS,
            _plain_item(_PARTICIPANT_FIELDS),
            _plain_form(_PARTICIPANT_FIELDS),
        ),
        ListEditor(
            "factors",
            "analysis.contributing_factors",
            "Contributing factors",
            _FACTOR_FIELDS,
            _plain_item(_FACTOR_FIELDS),
            _plain_form(_FACTOR_FIELDS),
        ),
        ListEditor(
            "whys",
            "analysis.five_whys",
            "Five whys",
            _WHY_FIELDS,
            _plain_item(_WHY_FIELDS),
            _plain_form(_WHY_FIELDS),
        ),
        ListEditor(
            "lessons",
            "lessons",
            "Lessons learned",
            _LESSON_FIELDS,
            _plain_item(_LESSON_FIELDS),
            _plain_form(_LESSON_FIELDS),
        ),
        ListEditor(
            "actions",
            "action_items",
            "Action items",
            _ACTION_FIELDS,
            _plain_item(_ACTION_FIELDS),
            _plain_form(_ACTION_FIELDS),
        ),
    )
}


def item_label(editor: ListEditor, item: Any) -> str:
    """What people call the item (an event's text, an action's title…)."""
    return label_of(editor.path, item.__dict__)


def list_items(editor: ListEditor, postmortem: Postmortem) -> tuple[Any, ...]:
    """The current items of the editor's list."""
    value: Any = postmortem
    for part in editor.path.split("."):
        value = getattr(value, part)
    return tuple(value)
