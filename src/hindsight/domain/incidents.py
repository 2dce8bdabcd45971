"""The postmortem: an incident and its six parts, as one validated value."""

from __future__ import annotations

from dataclasses import field
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BeforeValidator
from pydantic.dataclasses import dataclass

from hindsight.domain.actions import ActionItem
from hindsight.domain.base import DOMAIN_CONFIG
from hindsight.domain.identity import check_item_id, with_ids
from hindsight.domain.impact import Impact
from hindsight.domain.moments import check_key_moments, find_moment_disorder
from hindsight.domain.rca import RootCauseAnalysis
from hindsight.domain.response import ResponseEvaluation
from hindsight.domain.text import (
    check_length,
    clean_items,
    clean_line,
    clean_prose,
    clean_slug,
)
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
    id: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", check_item_id(self.id, "id"))
        object.__setattr__(
            self, "name", clean_line(self.name, "name", required=True, max_length=200)
        )
        object.__setattr__(self, "team", clean_line(self.team, "team", max_length=200))


TITLE_LIMIT = 200


@dataclass(config=DOMAIN_CONFIG)
class Lesson:
    """One short, actionable statement of what was learned."""

    text: str
    id: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", check_item_id(self.id, "id"))
        object.__setattr__(self, "text", clean_line(self.text, "text", required=True))

    def __str__(self) -> str:
        return self.text


def _lessons_from_text(value: Any) -> Any:
    """Lessons written before they had ids are plain strings; read them as lessons."""
    if isinstance(value, list | tuple):
        return tuple({"text": item} if isinstance(item, str) else item for item in value)
    return value


LessonList = Annotated[tuple[Lesson, ...], BeforeValidator(_lessons_from_text)]


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
    lessons: LessonList = ()
    action_items: tuple[ActionItem, ...] = ()
    # Why the key moments may stay out of order (the evidence shows it); empty: they may not.
    moment_order_note: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", clean_slug(self.key, "key"))
        object.__setattr__(
            self, "title", clean_line(self.title, "title", required=True, max_length=TITLE_LIMIT)
        )
        object.__setattr__(self, "summary", clean_prose(self.summary, "summary"))
        object.__setattr__(
            self, "public_summary", clean_prose(self.public_summary, "public_summary")
        )
        for name in ("services", "tags"):
            values = clean_items(getattr(self, name), name)
            for index, value in enumerate(values):
                check_length(value, f"{name}[{index}]", 200)
            if len(set(values)) != len(values):
                raise ValueError(f"{name}: lists the same name twice")
            object.__setattr__(self, name, values)
        note = clean_line(self.moment_order_note, "moment_order_note")
        object.__setattr__(self, "moment_order_note", note)
        # The timeline is kept in time order; events at the same instant keep their given order.
        timeline = tuple(sorted(self.timeline, key=lambda event: event.at))
        check_key_moments(timeline, allow_disorder=bool(note))
        for name, items in (
            ("timeline", timeline),
            ("participants", self.participants),
            ("lessons", self.lessons),
            ("action_items", self.action_items),
        ):
            object.__setattr__(self, name, with_ids(items, name))

    def key_moments(self) -> dict[KeyMoment, TimelineEvent]:
        """The events marked as key moments, by moment."""
        return {e.key_moment: e for e in self.timeline if e.key_moment is not None}

    def moment_disorder(self) -> list[tuple[KeyMoment, KeyMoment]]:
        """Pairs of key moments out of order, as (earlier by rule, later by rule)."""
        return find_moment_disorder(self.key_moments())
