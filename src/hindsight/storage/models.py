"""Tables. Every foreign key and every filter or sort column is indexed.

The overview, timeline, participants and action items are rows (they are filtered, joined and
followed across incidents); the analysis, impact, response and lessons parts are JSON values
of the incident row, since they are always read and written whole.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from hindsight.storage.coltypes import UTCDateTime


class Base(DeclarativeBase):
    """Declarative base with a naming convention so migrations name constraints the same way."""

    type_annotation_map = {dt.datetime: UTCDateTime(), dict[str, Any]: JSON, list[Any]: JSON}


Base.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _children(order_by: str) -> Any:
    """A one-to-many list owned by the incident, kept in `position` order."""
    return relationship(order_by=order_by, cascade="all, delete-orphan", passive_deletes=True)


class IncidentRow(Base):
    __tablename__ = "incidents"
    # Sort orders of the incident list, with the columns its filters check (migrations 0003, 0007).
    __table_args__ = (
        Index("ix_incidents_created_at_id", "created_at", "id", "visibility", "archived_at"),
        Index("ix_incidents_updated_at_id", "updated_at", "id", "visibility", "archived_at"),
        Index(
            "ix_incidents_severity_created_at_id",
            "severity",
            "created_at",
            "id",
            "visibility",
            "archived_at",
        ),
        Index(
            "ix_incidents_restricted",
            "id",
            sqlite_where=text("visibility = 'restricted'"),
            postgresql_where=text("visibility = 'restricted'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")
    public_summary: Mapped[str] = mapped_column(Text, default="", server_default="")
    report_template: Mapped[str] = mapped_column(String(80), default="", server_default="")
    moment_order_note: Mapped[str] = mapped_column(String(500), default="", server_default="")
    severity: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(20), index=True)
    review_status: Mapped[str] = mapped_column(String(20), index=True)
    visibility: Mapped[str] = mapped_column(String(20))
    analysis: Mapped[dict[str, Any]] = mapped_column(JSON)
    impact: Mapped[dict[str, Any]] = mapped_column(JSON)
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    lessons: Mapped[list[Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer)
    # Archived incidents leave lists and search (services/incidents.py: visible_to).
    archived_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    archived_by: Mapped[str | None] = mapped_column(String(200), nullable=True)

    services: Mapped[list[ServiceRow]] = _children("ServiceRow.position")
    tags: Mapped[list[TagRow]] = _children("TagRow.position")
    participants: Mapped[list[ParticipantRow]] = _children("ParticipantRow.position")
    timeline: Mapped[list[TimelineEventRow]] = _children("TimelineEventRow.position")
    action_items: Mapped[list[ActionItemRow]] = _children("ActionItemRow.position")

    # Optimistic concurrency: every UPDATE says "WHERE version = <the version I read>".
    __mapper_args__ = {"version_id_col": version}


def _incident_fk() -> Mapped[int]:
    return mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)


class ServiceRow(Base):
    __tablename__ = "incident_services"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = _incident_fk()
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200), index=True)


class TagRow(Base):
    __tablename__ = "incident_tags"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = _incident_fk()
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200), index=True)


class ParticipantRow(Base):
    __tablename__ = "participants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = _incident_fk()
    position: Mapped[int] = mapped_column(Integer)
    item_id: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200), index=True)
    role: Mapped[str] = mapped_column(String(40))
    team: Mapped[str] = mapped_column(String(200), default="")


class TimelineEventRow(Base):
    __tablename__ = "timeline_events"
    __table_args__ = (
        Index("ix_timeline_events_incident_at", "incident_id", "at"),
        # The few marked key moments, read across incidents by the insights (migration 0016).
        Index(
            "ix_timeline_events_key_moments",
            "incident_id",
            "key_moment",
            "at",
            sqlite_where=text("key_moment IS NOT NULL"),
            postgresql_where=text("key_moment IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = _incident_fk()
    position: Mapped[int] = mapped_column(Integer)
    item_id: Mapped[str] = mapped_column(String(40))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    zone: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    actor: Mapped[str] = mapped_column(String(200), default="")
    source: Mapped[str] = mapped_column(String(100), index=True)
    key_moment: Mapped[str | None] = mapped_column(String(40), nullable=True)
    provenance: Mapped[list[Any]] = mapped_column(JSON)


class ActionItemRow(Base):
    __tablename__ = "action_items"
    # The cross-postmortem list and the insights read items by when they opened and closed
    # (migration 0016); key moments are read per incident for the response-time trends.
    __table_args__ = (
        Index("ix_action_items_opened_at", "opened_at"),
        Index("ix_action_items_closed_at", "closed_at"),
        # The trackers' webhooks find items by their issue's address (migration 0018).
        Index(
            "ix_action_items_tracker_url",
            "tracker_url",
            sqlite_where=text("tracker_url <> ''"),
            postgresql_where=text("tracker_url <> ''"),
            postgresql_using="hash",
        ),
        # The list's pages walk one of these in the default order (due date, undated last)
        # and stop after offset + limit: everyone's, one owner's, one team's (migration 0019).
        # The visibility columns are in each so that no row is read to skip a hidden one.
        Index(
            "ix_action_items_list_due",
            "archived",
            text("(due IS NULL)"),
            "due",
            "id",
            "restricted",
            "incident_id",
        ),
        Index(
            "ix_action_items_owner_due",
            "owner",
            "archived",
            text("(due IS NULL)"),
            "due",
            "id",
            "restricted",
            "incident_id",
        ),
        Index(
            "ix_action_items_team_due",
            "team",
            "archived",
            text("(due IS NULL)"),
            "due",
            "id",
            "restricted",
            "incident_id",
            "status",
            "priority",
        ),
        # The insights read these of the items of many incidents (services/insights.py).
        Index(
            "ix_action_items_insights",
            "incident_id",
            "opened_at",
            "closed_at",
            "due",
            "team",
            "kind",
            "priority",
        ),
        # The few restricted items, for the count of those a reader may not see.
        Index("ix_action_items_restricted", "restricted", "archived", "incident_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = _incident_fk()
    position: Mapped[int] = mapped_column(Integer)
    item_id: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    owner: Mapped[str] = mapped_column(String(200), index=True, default="")
    priority: Mapped[str] = mapped_column(String(4), index=True)
    due: Mapped[dt.date | None] = mapped_column(Date, nullable=True, index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    tracker_url: Mapped[str] = mapped_column(Text, default="")
    # When the item first appeared and when it was last closed (done or won't do); kept by
    # storage/repository.py across edits, NULL while open (migration 0016).
    opened_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Copies of the incident's facts that the list filters and sorts on, and the owner's team
    # (the first participant of that name with a team): written with the item by
    # storage/repository.py in the transaction that changes the incident (migration 0019).
    severity: Mapped[str] = mapped_column(String(8), default="", server_default="", index=True)
    restricted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    archived: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    team: Mapped[str] = mapped_column(String(200), default="", server_default="")


class FactorCategoryRow(Base):
    __tablename__ = "factor_categories"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    description: Mapped[str] = mapped_column(Text, default="")


class RevisionRow(Base):
    __tablename__ = "revisions"
    __table_args__ = (Index("ix_revisions_incident_version", "incident_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = _incident_fk()
    version: Mapped[int] = mapped_column(Integer)
    author: Mapped[str] = mapped_column(String(200), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    action: Mapped[str] = mapped_column(String(40))
    note: Mapped[str] = mapped_column(Text, default="")
    changes: Mapped[list[Any]] = mapped_column(JSON)


def _user_fk() -> Mapped[int]:
    return mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20), index=True)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class ApiTokenRow(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = _user_fk()
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class IncidentMemberRow(Base):
    __tablename__ = "incident_members"
    __table_args__ = (UniqueConstraint("incident_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = _incident_fk()
    user_id: Mapped[int] = _user_fk()


class LoginFailureRow(Base):
    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(80), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)


class CommentRow(Base):
    __tablename__ = "comments"
    __table_args__ = (Index("ix_comments_incident_section", "incident_id", "section"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = _incident_fk()
    section: Mapped[str] = mapped_column(String(40))
    author_id: Mapped[int] = _user_fk()
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class ReviewRow(Base):
    __tablename__ = "reviews"
    __table_args__ = (UniqueConstraint("incident_id", "reviewer_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = _incident_fk()
    reviewer_id: Mapped[int] = _user_fk()
    decision: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class SecretRow(Base):
    __tablename__ = "secrets"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


class EvidenceImportRow(Base):
    """One run of an importer against an incident: what it read and what came of it."""

    __tablename__ = "evidence_imports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = _incident_fk()
    kind: Mapped[str] = mapped_column(String(40))
    origin: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(200))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    added: Mapped[int] = mapped_column(Integer, default=0)
    merged: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[dict[str, Any]] = mapped_column(JSON)


class EvidenceRow(Base):
    """An event an importer proposed; it stays here, suggested, until a person accepts it."""

    __tablename__ = "evidence"
    __table_args__ = (
        UniqueConstraint("incident_id", "kind", "key"),
        Index("ix_evidence_incident_state_at", "incident_id", "state", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = _incident_fk()
    import_id: Mapped[int] = mapped_column(
        ForeignKey("evidence_imports.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(300))
    state: Mapped[str] = mapped_column(String(20))
    merged_into: Mapped[int | None] = mapped_column(Integer, nullable=True)
    subject: Mapped[str] = mapped_column(String(200), default="")
    signal: Mapped[str] = mapped_column(String(40))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    zone: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    event_kind: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(200), default="")
    source: Mapped[str] = mapped_column(String(100))
    provenance: Mapped[list[Any]] = mapped_column(JSON)


class HookTokenRow(Base):
    """The secret a monitoring system presents to post alerts into one incident."""

    __tablename__ = "hook_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = _incident_fk()
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class UserSessionRow(Base):
    """A signed-in browser. Only a hash of its secret is kept, so a copy of this table signs
    nobody in; ending a session is deleting its row, seen at once by every web process."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = _user_fk()
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    user_agent: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str] = mapped_column(String(64), default="")


class LintDismissalRow(Base):
    """A lint finding the author dismissed with a reason: it stops counting in the score."""

    __tablename__ = "lint_dismissals"
    __table_args__ = (
        UniqueConstraint("incident_id", "rule", "field", name="uq_lint_dismissals_finding"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = _incident_fk()
    rule: Mapped[str] = mapped_column(String(100))
    field: Mapped[str] = mapped_column(String(300))
    reason: Mapped[str] = mapped_column(String(500))
    author: Mapped[str] = mapped_column(String(200))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    # Finding.fingerprint of the text dismissed; NULL for dismissals made before 0017.
    fingerprint: Mapped[str | None] = mapped_column(String(64), nullable=True)


class ArchiveSourceRow(Base):
    """Which archived report (by its name in the archive: 'folder/2018-01-18-x.md') an incident
    was imported from, so importing the same file again updates the same incident; with the
    report's digest and the flags its reading raised (shown by lint)."""

    __tablename__ = "archive_sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(500), unique=True)
    incident_id: Mapped[int] = _incident_fk()
    digest: Mapped[str] = mapped_column(String(64))
    flags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    imported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class IncidentProfileRow(Base):
    """What similar-incident ranking reads about an incident (analysis/similarity.py), kept in
    step with every change in the change's transaction (services/similar.py)."""

    __tablename__ = "incident_profiles"

    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    # The words compared (space-separated, at most analysis.similarity.MAX_TERMS).
    terms: Mapped[str] = mapped_column(Text)
    categories: Mapped[list[Any]] = mapped_column(JSON)
    # The embedding, float32 little-endian in base64; '' when no model was available.
    model: Mapped[str] = mapped_column(String(80), default="", index=True)
    vector: Mapped[str] = mapped_column(Text, default="")
    text_hash: Mapped[str] = mapped_column(String(64))
    # Indexed: every process checks max(updated_at) to keep its similarity index current.
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    # When the incident happened (impact started, else the first event); NULL: created_at.
    happened_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class IncidentLinkRow(Base):
    """A recurrence link, stored once in each direction: `incident_id` recurs as (or is
    recurred by) `other_id`. `earlier` says whether `other_id` is the earlier incident."""

    __tablename__ = "incident_links"
    __table_args__ = (UniqueConstraint("incident_id", "other_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = _incident_fk()
    other_id: Mapped[int] = _incident_fk()
    earlier: Mapped[bool] = mapped_column(Boolean)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class RecurrenceDismissalRow(Base):
    """A suggested recurrence someone said is not one: it is not suggested again."""

    __tablename__ = "recurrence_dismissals"
    __table_args__ = (UniqueConstraint("incident_id", "other_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = _incident_fk()
    other_id: Mapped[int] = _incident_fk()
    dismissed_by: Mapped[str] = mapped_column(String(200))
    dismissed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class MetricSeriesRow(Base):
    """A metric series imported as evidence for one incident: its samples are one bounded JSON
    list ([unix seconds, value] pairs, at most MAX_STORED_POINTS, downsampled when longer)."""

    __tablename__ = "metric_series"
    __table_args__ = (UniqueConstraint("incident_id", "name", "labels_text", "role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = _incident_fk()
    name: Mapped[str] = mapped_column(String(300))
    labels_text: Mapped[str] = mapped_column(String(500), default="")
    role: Mapped[str] = mapped_column(String(20))
    origin: Mapped[str] = mapped_column(Text)
    step_seconds: Mapped[float] = mapped_column(Float)
    raw_count: Mapped[int] = mapped_column(Integer)
    start_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    end_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    points: Mapped[list[Any]] = mapped_column(JSON)
    imported_by: Mapped[str] = mapped_column(String(200))
    imported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


# The job queue (huey's storage, storage/queue.py) and notifications (migration 0015).


class QueueTaskRow(Base):
    """A job waiting for a worker; a worker takes it by deleting its row."""

    __tablename__ = "queue_tasks"
    __table_args__ = (Index("ix_queue_tasks_queue_priority_id", "queue", "priority", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    queue: Mapped[str] = mapped_column(String(40))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    priority: Mapped[float] = mapped_column(Float, default=0.0)


class QueueScheduleRow(Base):
    """A job to enqueue at `run_at` (seconds since the epoch): retries and delayed jobs."""

    __tablename__ = "queue_schedule"
    __table_args__ = (Index("ix_queue_schedule_queue_run_at", "queue", "run_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    queue: Mapped[str] = mapped_column(String(40))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    run_at: Mapped[float] = mapped_column(Float)


class QueueValueRow(Base):
    """huey's key/value store: results, revocations, locks, counters."""

    __tablename__ = "queue_values"

    queue: Mapped[str] = mapped_column(String(40), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[bytes] = mapped_column(LargeBinary)


class JobRunRow(Base):
    """A periodic job's run for one period: the primary key lets one worker of many run it."""

    __tablename__ = "job_runs"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    period: Mapped[str] = mapped_column(String(40), primary_key=True)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)


class JobRow(Base):
    """A long job someone started from the web (a PDF render): its progress, shown on its
    page, and where its result is."""

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    user_id: Mapped[int] = _user_fk()
    incident_key: Mapped[str] = mapped_column(String(80))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(20), index=True)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str] = mapped_column(Text, default="")
    result: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class ChannelRow(Base):
    """Where a person wants reminders: an e-mail address, a Slack-compatible incoming webhook
    or a generic webhook (whose payloads are signed with `secret`)."""

    __tablename__ = "notification_channels"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = _user_fk()
    kind: Mapped[str] = mapped_column(String(20))
    target: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class NotificationRow(Base):
    """One reminder or digest for one person. The unique (user, key) pair is what makes each
    reminder happen once, however many workers and web processes look for due ones."""

    __tablename__ = "notifications"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = _user_fk()
    key: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)


class DeliveryRow(Base):
    """A notification sent (or being sent) over one channel; kind and target are copied so the
    log still reads after the channel is removed."""

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("notification_id", "channel_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    notification_id: Mapped[int] = mapped_column(
        ForeignKey("notifications.id", ondelete="CASCADE"), index=True
    )
    channel_id: Mapped[int | None] = mapped_column(
        ForeignKey("notification_channels.id", ondelete="SET NULL"), index=True, nullable=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    target: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(20), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class DeliveryAttemptRow(Base):
    """One try of a delivery and what the other side answered."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("deliveries.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    ok: Mapped[bool] = mapped_column(Boolean)
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    response: Mapped[str] = mapped_column(Text, default="")


class CalendarFeedRow(Base):
    """A person's iCalendar feed of due dates: only a hash of the secret in its URL is kept, so
    this table gives no one the feed; rotating replaces the row."""

    __tablename__ = "calendar_feeds"
    __table_args__ = (UniqueConstraint("user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = _user_fk()
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
