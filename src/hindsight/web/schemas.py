"""Request and response bodies of the JSON API (the names say which: ...Create, ...Read)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field

from hindsight.analysis.metrics import compute_response_metrics
from hindsight.domain.incidents import Postmortem
from hindsight.domain.moments import describe_disorder


class ConflictRead(BaseModel):
    field: str
    label: str
    mine: Any
    theirs: Any


class ErrorDetail(BaseModel):
    message: str
    field: str | None = None
    current_version: int | None = None
    conflicts: list[ConflictRead] | None = Field(
        None, description="On 409: each field both sides changed, with both values"
    )


class ErrorBody(BaseModel):
    error: ErrorDetail


class Metrics(BaseModel):
    time_to_detect_seconds: float | None
    time_to_acknowledge_seconds: float | None
    time_to_mitigate_seconds: float | None
    time_to_resolve_seconds: float | None
    impact_duration_seconds: float | None
    impact_start: dt.datetime | None
    impact_end: dt.datetime | None
    moment_disorder: list[str] = Field(
        default_factory=list,
        description="Key moments out of order (kept with moment_order_note); durations between "
        "them are null",
    )


class IncidentRead(BaseModel):
    key: str
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    archived_at: dt.datetime | None = Field(
        default=None, description="When it was archived (out of lists and search); null if not."
    )
    archived_by: str = ""
    postmortem: dict[str, Any]
    metrics: Metrics


class IncidentSummaryRead(BaseModel):
    key: str
    title: str
    severity: str
    status: str
    review_status: str
    visibility: str
    services: list[str]
    tags: list[str]
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int


class IncidentPageRead(BaseModel):
    items: list[IncidentSummaryRead]
    total: int
    limit: int
    offset: int


class IncidentCreate(BaseModel):
    title: str = Field(max_length=300)
    severity: str
    key: str | None = Field(default=None, max_length=80)
    date: dt.date | None = None
    postmortem: dict[str, Any] = Field(
        default_factory=dict,
        description="Any other fields of the postmortem's JSON form. `review_status`, if "
        "given, must be `draft`: a postmortem moves on only through the review workflow.",
    )


class IncidentReplace(BaseModel):
    version: int
    postmortem: dict[str, Any] = Field(
        description="The whole postmortem's JSON form. Left out, `visibility` and "
        "`review_status` keep their current values; other fields left out take their defaults."
    )


class IncidentUpdate(BaseModel):
    version: int
    set: dict[str, Any] = Field(
        description="Field paths to new values, applied and validated together, e.g. "
        '{"impact.cost.business_cost": 12000, "impact.cost.currency": "USD"}; list items by id: '
        '{"action_items.ai-3f9a2c.status": "done"}'
    )
    force: bool = Field(
        False,
        description="When `version` is stale and the same fields changed on both sides, write "
        "these fields anyway (only these; other changes are kept)",
    )


class ItemAppend(BaseModel):
    version: int
    item: Any


class ReviewRequestBody(BaseModel):
    reviewers: list[str]


class DecisionBody(BaseModel):
    approve: bool
    note: str = ""


class ReopenBody(BaseModel):
    reason: str


class PublishBody(BaseModel):
    """Needed only past error-level lint findings: why publish anyway (kept in history)."""

    override: str = ""


class CommentCreate(BaseModel):
    section: str
    body: str


class CommentRead(BaseModel):
    id: int
    section: str
    author: str
    body: str
    created_at: dt.datetime


class MemberAdd(BaseModel):
    username: str


class ReviewerRead(BaseModel):
    username: str
    display_name: str
    decision: str
    note: str
    updated_at: dt.datetime


class RevisionRead(BaseModel):
    version: int
    author: str
    at: dt.datetime
    action: str
    note: str
    summary: list[str] = Field(description="One line per changed item or field, in words")
    changes: list[dict[str, Any]]


class RestoreBody(BaseModel):
    item: str = Field(description="The removed item's path, e.g. timeline.ev-3f9a2c")


class TokenCreate(BaseModel):
    name: str = Field(max_length=100)


class TokenCreated(BaseModel):
    token: str = Field(description="Shown once; keep it secret.")


class TokenRead(BaseModel):
    id: int
    name: str
    prefix: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None


class MeRead(BaseModel):
    username: str
    display_name: str
    role: str
    timezone: str


def metrics_of(postmortem: Postmortem) -> Metrics:
    """The response metrics of a postmortem, in seconds."""
    m = compute_response_metrics(postmortem)

    def seconds(value: dt.timedelta | None) -> float | None:
        # A negative duration (moments kept out of order) is no duration: null, and the
        # contradiction is listed in moment_disorder.
        return value.total_seconds() if value is not None and value.total_seconds() >= 0 else None

    return Metrics(
        time_to_detect_seconds=seconds(m.time_to_detect),
        time_to_acknowledge_seconds=seconds(m.time_to_acknowledge),
        time_to_mitigate_seconds=seconds(m.time_to_mitigate),
        time_to_resolve_seconds=seconds(m.time_to_resolve),
        impact_duration_seconds=seconds(m.impact_duration),
        impact_start=m.impact_window[0] if m.impact_window else None,
        impact_end=m.impact_window[1] if m.impact_window else None,
        moment_disorder=[
            describe_disorder(pair, postmortem.key_moments())
            for pair in postmortem.moment_disorder()
        ],
    )
