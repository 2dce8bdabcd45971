"""Evidence: timeline events proposed by an importer, before a person accepts them.

An importer turns one record of another tool (a Slack message, a PagerDuty log entry, a
merge commit, a burst of log lines) into an `Evidence`: the event it suggests, a `key` that
names the record so a second import of the same file finds it again, a `subject` that says
what the event is about so the same alert seen by two tools can be recognised, and the
`signal` it gives for proposing key moments.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic.dataclasses import dataclass

from hindsight.domain.base import DOMAIN_CONFIG
from hindsight.domain.text import clean_line, tidy
from hindsight.domain.timeline import EventKind, Provenance, TimelineEvent


class Signal(StrEnum):
    """What an event tells about the incident's course; key-moment proposals read these."""

    ALERT_FIRING = "alert_firing"
    ALERT_RESOLVED = "alert_resolved"
    PAGED = "paged"
    ACKNOWLEDGED = "acknowledged"
    ESCALATED = "escalated"
    INCIDENT_RESOLVED = "incident_resolved"
    CHANGE = "change"
    ERRORS_STARTED = "errors_started"
    ERRORS_STOPPED = "errors_stopped"
    NEW_LOG_PATTERN = "new_log_pattern"
    # A metric series broke its SLO (or departed from its baseline), and came back.
    SLO_VIOLATED = "slo_violated"
    SLO_RECOVERED = "slo_recovered"
    CHAT = "chat"
    NOTE = "note"


_KIND_SIGNALS = {
    EventKind.ALERT: Signal.ALERT_FIRING,
    EventKind.PAGE: Signal.PAGED,
    EventKind.ACKNOWLEDGEMENT: Signal.ACKNOWLEDGED,
    EventKind.ESCALATION: Signal.ESCALATED,
    EventKind.RESOLUTION: Signal.INCIDENT_RESOLVED,
    EventKind.DEPLOY: Signal.CHANGE,
    EventKind.CHANGE: Signal.CHANGE,
}


def signal_for_kind(kind: EventKind) -> Signal:
    """What an event of this kind says about the incident's course, when nothing more is known
    (an event written by hand, a generic CSV row)."""
    return _KIND_SIGNALS.get(kind, Signal.NOTE)


class SuggestionState(StrEnum):
    """Where a suggested event stands: waiting, taken into the timeline, or set aside."""

    SUGGESTED = "suggested"
    ACCEPTED = "accepted"
    DISMISSED = "dismissed"
    MERGED = "merged"


@dataclass(config=DOMAIN_CONFIG)
class Evidence:
    """One event an importer proposes, with what is needed to merge and re-import it."""

    event: TimelineEvent
    key: str
    subject: str = ""
    signal: Signal = Signal.NOTE

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", clean_line(self.key, "key", required=True)[:300])
        object.__setattr__(self, "subject", tidy(self.subject, limit=200, one_line=True))


def provenance(origin: str, locator: object = "") -> Provenance:
    """A provenance from any file name and record locator, with the separator characters
    the Markdown form reserves (';' and '#') replaced."""
    clean_origin = tidy(origin, limit=300, one_line=True).replace(";", ",").replace("#", "-")
    clean_locator = tidy(str(locator), limit=200, one_line=True).replace(";", ",")
    return Provenance(clean_origin or "unknown", clean_locator.replace("#", "-"))
