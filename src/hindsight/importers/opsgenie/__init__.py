"""Opsgenie: alerts, alert logs and incidents as returned by the API, and webhook payloads.

- `GET /v2/alerts` → `{"data": [alert…]}`: each alert opened (and acknowledged/closed when its
  `report` says when);
- `GET /v2/alerts/{id}/logs` → `{"data": [{createdAt, log, owner, type, offset}…]}`: the
  alert's own timeline; acknowledgements, escalations and closes are recognised in `log`;
- `GET /v1/incidents` → incidents opened;
- outgoing webhooks → `{"action": "Create" | "Acknowledge" | "Close" | …, "alert": {…}}`: the
  actions of `_ACTIONS` become events (Escalate and EscalateNext as escalations, with the
  escalation's name); tag, detail and message edits and unknown actions are counted as
  skipped with the action named.
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
    epoch,
)
from hindsight.importers.json_documents import each_document

_ACTIONS: dict[str, tuple[EventKind, Signal, str]] = {
    "create": (EventKind.ALERT, Signal.PAGED, "Alert opened"),
    "acknowledge": (EventKind.ACKNOWLEDGEMENT, Signal.ACKNOWLEDGED, "Acknowledged"),
    "close": (EventKind.RESOLUTION, Signal.INCIDENT_RESOLVED, "Closed"),
    "escalate": (EventKind.ESCALATION, Signal.ESCALATED, "Escalated"),
    "addnote": (EventKind.NOTE, Signal.NOTE, "Note added"),
    "escalatenext": (EventKind.ESCALATION, Signal.ESCALATED, "Escalated to the next level"),
    "unacknowledge": (EventKind.NOTE, Signal.NOTE, "Acknowledgement withdrawn"),
    "assignownership": (EventKind.NOTE, Signal.NOTE, "Ownership assigned"),
    "takeownership": (EventKind.NOTE, Signal.NOTE, "Ownership taken"),
    "addrecipient": (EventKind.NOTE, Signal.NOTE, "Recipient added"),
    "addresponder": (EventKind.NOTE, Signal.NOTE, "Responder added"),
    "addteam": (EventKind.NOTE, Signal.NOTE, "Team added"),
    "updatepriority": (EventKind.NOTE, Signal.NOTE, "Priority changed"),
    "snooze": (EventKind.NOTE, Signal.NOTE, "Snoozed"),
    "delete": (EventKind.NOTE, Signal.NOTE, "Alert deleted"),
    "customaction": (EventKind.ACTION, Signal.NOTE, "Custom action"),
}
# Webhook actions that change only how the alert is filed, not the incident's course.
_QUIET_ACTIONS = frozenset(
    {
        "addtags",
        "removetags",
        "adddetails",
        "removedetails",
        "updatemessage",
        "updatedescription",
        "updatealias",
        "seen",
    }
)
_LOG_WORDS = (
    ("acknowledged", "acknowledge"),
    ("closed", "close"),
    ("escalat", "escalate"),
    ("created", "create"),
)


def _time(record: Record, name: str, options: ImportOptions) -> dt.datetime | None:
    value = record.get(name, (str, int, float), required=False)
    if value is None:
        return None
    if isinstance(value, str):
        return record.time(name, options.tzinfo)
    seconds = float(value)
    while seconds > 7_000_000_000:  # milliseconds, microseconds, nanoseconds
        seconds /= 1000
    return epoch(seconds, record.fail, name)


class _Reader:
    def __init__(self, origin: str, options: ImportOptions) -> None:
        self.origin, self.options = origin, options

    def make(
        self,
        where: Record,
        at: dt.datetime | None,
        action: str,
        text: str,
        *,
        key: str,
        actor: str = "",
        subject: str = "",
    ) -> Iterator[Evidence]:
        if at is None or not self.options.in_window(at):
            return
        kind, signal, _label = _ACTIONS.get(action, (EventKind.NOTE, Signal.NOTE, action))
        yield Evidence(
            event=TimelineEvent(
                at=at,
                text=tidy(text, limit=2000) or action,
                source="opsgenie",
                kind=kind,
                actor=tidy(actor, limit=200, one_line=True),
                provenance=(provenance(self.origin, f"{where.where} {key}".strip()),),
            ),
            key=key,
            subject=subject,
            signal=signal,
        )

    def alert(self, where: Record) -> Iterator[Evidence]:
        ident = where.get("id", str, required=False) or where.get("alertId", str)
        message = where.get("message", str, required=False) or "(no message)"
        tiny = where.get("tinyId", str, required=False)
        label = f"Alert #{tiny}" if tiny else "Alert"
        yield from self.make(
            where,
            _time(where, "createdAt", self.options),
            "create",
            f"{label} opened: {message}",
            key=f"{ident}/create",
            subject=message,
        )
        report = where.get("report", dict, required=False) or {}
        opened = _time(where, "createdAt", self.options)
        for field, action, by in (
            ("ackTime", "acknowledge", "acknowledgedBy"),
            ("closeTime", "close", "closedBy"),
        ):
            if opened and isinstance(report.get(field), int | float):
                at = opened + dt.timedelta(milliseconds=float(report[field]))
                yield from self.make(
                    where,
                    at,
                    action,
                    f"{label} {action}d: {message}",
                    key=f"{ident}/{action}",
                    actor=str(report.get(by) or ""),
                    subject=message,
                )

    def log(self, where: Record) -> Iterator[Evidence]:
        text = where.get("log", str)
        lowered = text.lower()
        if lowered.startswith("viewed on"):
            self.options.skip("alert views")
            return
        action = next((act for word, act in _LOG_WORDS if word in lowered), "log")
        offset = where.get("offset", str, required=False) or text
        yield from self.make(
            where,
            _time(where, "createdAt", self.options),
            action,
            text,
            key=f"log/{offset}",
            actor=where.get("owner", str, required=False) or "",
        )

    def incident(self, where: Record) -> Iterator[Evidence]:
        ident = where.get("id", str)
        message = where.get("message", str, required=False) or "(no message)"
        tiny = where.get("tinyId", str, required=False)
        yield from self.make(
            where,
            _time(where, "createdAt", self.options),
            "create",
            f"Incident #{tiny or ident} opened: {message}",
            key=f"incident/{ident}",
            subject=message,
        )

    def webhook(self, where: Record) -> Iterator[Evidence]:
        action = where.get("action", str)
        alert = Record(where.source, f"{where.where} alert".strip(), where.get("alert", dict))
        message = alert.get("message", str, required=False) or "(no message)"
        ident = alert.get("alertId", str, required=False) or message
        at = _time(alert, "updatedAt", self.options) if action.lower() != "create" else None
        at = at or _time(alert, "createdAt", self.options)
        name = action.lower().replace(" ", "").replace("-", "").replace("_", "")
        if name in _QUIET_ACTIONS or name not in _ACTIONS:
            reason = (
                "changes only how the alert is filed"
                if name in _QUIET_ACTIONS
                else ("an action this importer does not know")
            )
            self.options.skip(f"Opsgenie webhooks with action '{action}' ({reason})")
            return
        label = _ACTIONS[name][2]
        escalation = where.get("escalation", dict, required=False) or {}
        if escalation.get("name"):
            label += f" ({escalation['name']})"
        if name == "customaction" and where.get("customAction", str, required=False):
            label = f"Custom action '{where.get('customAction', str)}'"
        yield from self.make(
            alert,
            at,
            name,
            f"{label}: {message}",
            key=f"{ident}/{name}/{at.isoformat() if at else ''}",
            actor=alert.get("username", str, required=False) or "",
            subject=message,
        )

    def document(self, where: Record) -> Iterator[Evidence]:
        data: Any = where.data
        if isinstance(data, dict) and "action" in data and "alert" in data:
            yield from self.webhook(where)
            return
        if not isinstance(data, dict) or not isinstance(data.get("data"), list | dict):
            raise where.fail(
                "not an Opsgenie API response: expected a 'data' list, or a "
                "webhook payload with 'action' and 'alert'"
            )
        items = data["data"] if isinstance(data["data"], list) else [data["data"]]
        for index, item in enumerate(items, start=1):
            record = Record(where.source, f"{where.where} data {index}".strip(), item)
            if not isinstance(item, dict):
                raise record.fail(f"expected an object, found {type(item).__name__}")
            if "log" in item:
                yield from self.log(record)
            elif "impactStartDate" in item or "impactedServices" in item:
                yield from self.incident(record)
            elif "message" in item:
                yield from self.alert(record)
            else:
                raise record.fail(
                    "neither an alert ('message'), an alert log ('log') nor an "
                    "incident ('impactStartDate')"
                )


class OpsgenieImporter:
    """Alerts, alert logs and incidents from Opsgenie."""

    kind = "opsgenie"
    title = "Opsgenie"
    icon = "🔔"
    accepts = "Opsgenie API JSON (alerts, alert logs, incidents) or webhook payloads"

    def read(
        self, source: Source, options: ImportOptions, progress: Progress
    ) -> Iterator[Evidence]:
        """Yield the events of every alert, log entry and incident."""
        for record in each_document(source, progress):
            yield from _Reader(record.source, options).document(record)


IMPORTER = OpsgenieImporter()
