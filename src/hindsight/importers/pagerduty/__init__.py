"""PagerDuty: REST API JSON (incidents, log entries, notes) and webhooks v1, v2 and v3.

The incident's course comes from its log entries: trigger (paged), notify, acknowledge,
escalate, annotate (a note), resolve. Webhooks v3 carry one event each
(`incident.triggered`, `incident.acknowledged`…); v2 messages embed the log entries; Events
API v2 bodies (trigger/acknowledge/resolve and change events) are read too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from hindsight.domain.evidence import Evidence, Signal, provenance
from hindsight.domain.text import tidy
from hindsight.domain.timeline import EventKind, TimelineEvent
from hindsight.importers.base import (
    ImportOptions,
    Progress,
    Record,
    Source,
    text_of,
)
from hindsight.importers.json_documents import each_document

# What each PagerDuty happening means, by log entry type, webhook event and Events API action.
_MEANING: dict[str, tuple[EventKind, Signal, str]] = {
    "trigger": (EventKind.PAGE, Signal.PAGED, "Triggered"),
    "notify": (EventKind.PAGE, Signal.PAGED, "Notified"),
    "acknowledge": (EventKind.ACKNOWLEDGEMENT, Signal.ACKNOWLEDGED, "Acknowledged"),
    "escalate": (EventKind.ESCALATION, Signal.ESCALATED, "Escalated"),
    "annotate": (EventKind.NOTE, Signal.NOTE, "Note"),
    "resolve": (EventKind.RESOLUTION, Signal.INCIDENT_RESOLVED, "Resolved"),
    "change": (EventKind.CHANGE, Signal.CHANGE, "Change"),
    "status_update_published": (EventKind.COMMUNICATION, Signal.NOTE, "Status update"),
}
_ALIASES = {
    "triggered": "trigger",
    "acknowledged": "acknowledge",
    "escalated": "escalate",
    "annotated": "annotate",
    "resolved": "resolve",
    "notified": "notify",
}


def _meaning(name: str) -> tuple[EventKind, Signal, str]:
    word = name.removesuffix("_log_entry").removeprefix("incident.")
    word = _ALIASES.get(word, word)
    return _MEANING.get(word, (EventKind.NOTE, Signal.NOTE, word.replace("_", " ").capitalize()))


def _summary(value: Any) -> str:
    return str(value.get("summary") or value.get("name") or "") if isinstance(value, dict) else ""


class _Reader:
    def __init__(self, item: str, options: ImportOptions) -> None:
        self.item, self.options = item, options

    def event(
        self,
        where: Record,
        at: dt.datetime,
        kind_name: str,
        text: str,
        *,
        key: str,
        actor: str = "",
        subject: str = "",
    ) -> Evidence | None:
        if not self.options.in_window(at):
            return None
        kind, signal, _label = _meaning(kind_name)
        return Evidence(
            event=TimelineEvent(
                at=at,
                text=tidy(text, limit=2000) or kind_name,
                source="pagerduty",
                kind=kind,
                actor=tidy(actor, limit=200, one_line=True),
                provenance=(provenance(self.item, f"{where.where} {key}".strip()),),
            ),
            key=key,
            subject=subject,
            signal=signal,
        )

    def log_entry(self, where: Record, incident_title: str = "") -> Evidence | None:
        entry_type = where.get("type", str)
        at = where.time("created_at", self.options.tzinfo)
        assert at is not None
        agent = where.get("agent", dict, required=False) or {}
        actor = _summary(agent) if "user" in str(agent.get("type", "")) else ""
        incident = _summary(where.get("incident", dict, required=False)) or incident_title
        channel = where.get("channel", dict, required=False) or {}
        text = where.get("summary", str, required=False) or _meaning(entry_type)[2]
        if entry_type.startswith("annotate") and channel.get("summary"):
            text = f"Note: {channel['summary']}"
        if incident:
            text = f"{text} — {incident}"
        key = where.get("id", str, required=False) or f"{entry_type}/{at.isoformat()}"
        return self.event(where, at, entry_type, text, key=key, actor=actor, subject=incident)

    def incident(self, where: Record) -> Iterator[Evidence]:
        title = where.get("title", str, required=False) or _summary(where.data)
        number = where.get("incident_number", int, required=False) or where.get(
            "number", int, required=False
        )
        ident = where.get("id", str)
        created = where.time("created_at", self.options.tzinfo, required=False) or where.time(
            "created_on", self.options.tzinfo
        )
        assert created is not None
        label = f"Incident #{number}" if number else "Incident"
        found = self.event(
            where,
            created,
            "trigger",
            f"{label} triggered: {title}",
            key=f"{ident}/triggered",
            subject=title,
        )
        if found:
            yield found
        status = where.get("status", str, required=False)
        changed = where.time("last_status_change_at", self.options.tzinfo, required=False)
        if status == "resolved" and changed:
            found = self.event(
                where,
                changed,
                "resolve",
                f"{label} resolved: {title}",
                key=f"{ident}/resolved",
                subject=title,
            )
            if found:
                yield found

    def webhook_v3(self, where: Record) -> Evidence | None:
        event_type = where.get("event_type", str)
        at = where.time("occurred_at", self.options.tzinfo)
        assert at is not None
        data = where.get("data", dict, required=False) or {}
        title = str(data.get("title") or _summary(data.get("incident")) or _summary(data))
        detail = data.get("content") or data.get("message") or ""
        _kind, _signal, label = _meaning(event_type)
        text = f"{label}: {title}" if title else label
        if detail:
            text += f" — {text_of(detail)}"
        return self.event(
            where,
            at,
            event_type,
            text,
            key=where.get("id", str),
            actor=_summary(where.get("agent", dict, required=False)),
            subject=title,
        )

    def message(self, where: Record) -> Iterator[Evidence]:
        entries = where.get("log_entries", list, required=False)
        incident = where.get("incident", dict, required=False) or (
            (where.get("data", dict, required=False) or {}).get("incident") or {}
        )
        title = str(
            incident.get("title") or incident.get("trigger_summary_data", {}).get("subject", "")
            if isinstance(incident, dict)
            else ""
        )
        if entries:
            for index, entry in enumerate(entries, start=1):
                found = self.log_entry(
                    Record(where.source, f"{where.where} log entry {index}", entry), title
                )
                if found:
                    yield found
            return
        event_type = where.get("event", str, required=False) or where.get("type", str)
        at = where.time("created_on", self.options.tzinfo)
        assert at is not None
        number = incident.get("incident_number") if isinstance(incident, dict) else None
        label = _meaning(event_type)[2]
        text = f"{label}: incident #{number}" if number else label
        if title:
            text += f" — {title}"
        key = where.get("id", str, required=False) or f"{event_type}/{at.isoformat()}/{number}"
        found = self.event(where, at, event_type, text, key=key, subject=title)
        if found:
            yield found

    def events_api(self, where: Record) -> Evidence | None:
        payload = Record(where.source, f"{where.where} payload".strip(), where.get("payload", dict))
        action = where.get("event_action", str, required=False) or "change"
        summary = payload.get("summary", str, required=False) or action
        at = payload.time("timestamp", self.options.tzinfo, required=False)
        if at is None:
            raise payload.fail("field 'timestamp' is missing; cannot place the event in time")
        key = where.get("dedup_key", str, required=False) or summary
        return self.event(
            where,
            at,
            action,
            f"{_meaning(action)[2]}: {summary}",
            key=f"{key}/{action}/{at.isoformat()}",
            subject=summary,
        )

    def _parts(self, where: Record, plural: str, single: str) -> Iterator[Record]:
        items = where.data.get(plural) or [where.data.get(single)]
        if not isinstance(items, list):
            raise where.fail(f"field '{plural}' should be a list")
        label = single.replace("_", " ")
        for index, item in enumerate(items, start=1):
            yield Record(where.source, f"{where.where} {label} {index}".strip(), item)

    def note(self, record: Record) -> Evidence | None:
        at = record.time("created_at", self.options.tzinfo)
        assert at is not None
        return self.event(
            record,
            at,
            "annotate",
            f"Note: {record.get('content', str)}",
            key=record.get("id", str),
            actor=_summary(record.get("user", dict, required=False)),
        )

    def document(self, where: Record) -> Iterator[Evidence]:
        data = where.data
        if not isinstance(data, dict):
            raise where.fail(f"expected a JSON object, found {type(data).__name__}")
        _refuse_fragments(where, data)
        if isinstance(data.get("event"), dict):
            found = [
                self.webhook_v3(Record(where.source, f"{where.where} event".strip(), data["event"]))
            ]
        elif "log_entries" in data or "log_entry" in data:
            found = [
                self.log_entry(part) for part in self._parts(where, "log_entries", "log_entry")
            ]
        elif "messages" in data:
            found = [
                e for part in self._parts(where, "messages", "message") for e in self.message(part)
            ]
        elif "incident" in data or "incidents" in data:
            found = [
                e
                for part in self._parts(where, "incidents", "incident")
                for e in self.incident(part)
            ]
        elif "notes" in data:
            found = [self.note(part) for part in self._parts(where, "notes", "note")]
        elif "payload" in data:
            found = [self.events_api(where)]
        else:
            raise where.fail(
                "not a PagerDuty export: expected 'log_entries', 'incident(s)', 'notes', "
                "'messages' (webhook v1/v2), 'event' (webhook v3) or 'payload' (Events API)"
            )
        yield from (e for e in found if e is not None)


def _refuse_fragments(where: Record, data: dict[str, Any]) -> None:
    if "webhook_subscription" in data or _is_v3_data(data):
        raise where.fail(
            "this is the 'data' part of a PagerDuty v3 webhook (or a subscription), without "
            "the 'event' envelope that says what happened and when; save the whole body"
        )
    if "event_action" in data and "payload" not in data:
        raise where.fail(
            f"an Events API '{data['event_action']}' carries no time; import the "
            "incident's log entries (GET /incidents/ID/log_entries) instead"
        )


_V3_DATA_TYPES = {
    "incident",
    "incident_note",
    "incident_status_update",
    "incident_conference_bridge",
    "incident_field_values",
    "incident_role_assignment",
    "incident_task",
    "incident_workflow_instance",
    "service",
    "service_field_values",
    "automation_action_invocation",
    "incident_responder",
    "incident_team",
}


def _is_v3_data(data: dict[str, Any]) -> bool:
    incident = data.get("incident")
    reference = isinstance(incident, dict) and incident.get("type") == "incident_reference"
    return (
        (data.get("type") in _V3_DATA_TYPES and "created_on" not in data)
        or reference
        or (
            data.get("type") == "incident"
            and "created_at" in data
            and "id" in data
            and "incident_number" not in data
        )
    )


class PagerDutyImporter:
    """The course of PagerDuty incidents from API JSON and webhook payloads."""

    kind = "pagerduty"
    title = "PagerDuty"
    icon = "📟"
    accepts = "PagerDuty REST API JSON (incidents, log_entries, notes) or webhook payloads"

    def read(
        self, source: Source, options: ImportOptions, progress: Progress
    ) -> Iterator[Evidence]:
        """Yield one event per log entry, webhook event or incident change."""
        for record in each_document(source, progress):
            yield from _Reader(record.source, options).document(record)


IMPORTER = PagerDutyImporter()
