"""The postmortem: an incident and its six parts, as one validated value."""

from __future__ import annotations

from dataclasses import field
from enum import StrEnum

from pydantic.dataclasses import dataclass

from hindsight.domain.actions import ActionItem
from hindsight.domain.base import DOMAIN_CONFIG
from hindsight.domain.impact import Impact
from hindsight.domain.rca import RootCauseAnalysis
from hindsight.domain.response import ResponseEvaluation
from hindsight.domain.text import clean_items, clean_line, clean_prose, clean_slug
from hindsight.domain.timeline import KeyMoment, TimelineEvent


class Severity(StrEnum):
    """SEV1 is the most severe."""

    SEV1 = "SEV1"
    SEV2 = "SEV2"
    SEV3 = "SEV3"
    SEV4 = "SEV4"
    SEV5 = "SEV5"


class IncidentStatus(StrEnum):
    """Where the incident itself stands (not its write-up)."""

    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"


class ReviewStatus(StrEnum):
    """Where the postmortem document stands in review."""

    DRAFT = "draft"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    PUBLISHED = "published"


class Visibility(StrEnum):
    """Who may read it: everyone signed in, or only its members (security incidents)."""

    INTERNAL = "internal"
    RESTRICTED = "restricted"


class ParticipantRole(StrEnum):
    """Incident response roles."""

    INCIDENT_COMMANDER = "incident_commander"
    COMMUNICATIONS_LEAD = "communications_lead"
    OPERATIONS_LEAD = "operations_lead"
    SCRIBE = "scribe"
    RESPONDER = "responder"
    SUBJECT_MATTER_EXPERT = "subject_matter_expert"
    POSTMORTEM_OWNER = "postmortem_owner"
    OBSERVER = "observer"


@dataclass(config=DOMAIN_CONFIG)
class Participant:
    """A person who took part, and in what role."""

    name: str
    role: ParticipantRole = ParticipantRole.RESPONDER
    team: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", clean_line(self.name, "name", required=True))
        object.__setattr__(self, "team", clean_line(self.team, "team"))


# The order key moments must follow when both are present: (earlier, later).
_MOMENT_ORDER = (
    (KeyMoment.IMPACT_STARTED, KeyMoment.MITIGATED),
    (KeyMoment.IMPACT_STARTED, KeyMoment.RESOLVED),
    (KeyMoment.DETECTED, KeyMoment.ACKNOWLEDGED),
    (KeyMoment.MITIGATED, KeyMoment.RESOLVED),
    (KeyMoment.ACKNOWLEDGED, KeyMoment.RESOLVED),
)


def _check_key_moments(timeline: tuple[TimelineEvent, ...]) -> None:
    seen: dict[KeyMoment, TimelineEvent] = {}
    for index, event in enumerate(timeline):
        if event.key_moment is None:
            continue
        if event.key_moment in seen:
            raise ValueError(
                f"timeline[{index}].key_moment: '{event.key_moment}' is already marked on the "
                f"event at {seen[event.key_moment].at.isoformat()}; each key moment is marked once"
            )
        seen[event.key_moment] = event
    for earlier, later in _MOMENT_ORDER:
        if earlier in seen and later in seen and seen[later].at < seen[earlier].at:
            raise ValueError(
                f"timeline: '{later}' ({seen[later].at.isoformat()}) is before "
                f"'{earlier}' ({seen[earlier].at.isoformat()})"
            )


@dataclass(config=DOMAIN_CONFIG)
class Postmortem:
    """An incident's full postmortem: overview and timeline, root cause, impact, response,
    lessons and action items. `key` is its stable identity across databases and files."""

    key: str
    title: str
    severity: Severity
    status: IncidentStatus = IncidentStatus.INVESTIGATING
    review_status: ReviewStatus = ReviewStatus.DRAFT
    visibility: Visibility = Visibility.INTERNAL
    summary: str = ""
    public_summary: str = ""
    services: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    participants: tuple[Participant, ...] = ()
    timeline: tuple[TimelineEvent, ...] = ()
    analysis: RootCauseAnalysis = field(default_factory=RootCauseAnalysis)
    impact: Impact = field(default_factory=Impact)
    response: ResponseEvaluation = field(default_factory=ResponseEvaluation)
    lessons: tuple[str, ...] = ()
    action_items: tuple[ActionItem, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", clean_slug(self.key, "key"))
        object.__setattr__(self, "title", clean_line(self.title, "title", required=True))
        object.__setattr__(self, "summary", clean_prose(self.summary, "summary"))
        object.__setattr__(
            self, "public_summary", clean_prose(self.public_summary, "public_summary")
        )
        for name in ("services", "tags"):
            values = clean_items(getattr(self, name), name)
            if len(set(values)) != len(values):
                raise ValueError(f"{name}: lists the same name twice")
            object.__setattr__(self, name, values)
        object.__setattr__(self, "lessons", clean_items(self.lessons, "lessons"))
        # The timeline is kept in time order; events at the same instant keep their given order.
        timeline = tuple(sorted(self.timeline, key=lambda event: event.at))
        _check_key_moments(timeline)
        object.__setattr__(self, "timeline", timeline)

    def key_moments(self) -> dict[KeyMoment, TimelineEvent]:
        """The events marked as key moments, by moment."""
        return {e.key_moment: e for e in self.timeline if e.key_moment is not None}
