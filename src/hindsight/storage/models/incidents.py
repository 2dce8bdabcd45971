"""The incident row and its parts that are rows, its revisions, and the factor taxonomy.

The overview, timeline, participants and action items are rows (they are filtered, joined and
followed across incidents); the analysis, impact, response and lessons parts are JSON values
of the incident row, since they are always read and written whole.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hindsight.storage.coltypes import UTCDateTime
from hindsight.storage.models.base import Base, incident_fk


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
    # Archived incidents leave lists and search (services/incidents: visible_to).
    archived_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    archived_by: Mapped[str | None] = mapped_column(String(200), nullable=True)

    services: Mapped[list[ServiceRow]] = _children("ServiceRow.position")
    tags: Mapped[list[TagRow]] = _children("TagRow.position")
    participants: Mapped[list[ParticipantRow]] = _children("ParticipantRow.position")
    timeline: Mapped[list[TimelineEventRow]] = _children("TimelineEventRow.position")
    action_items: Mapped[list[ActionItemRow]] = _children("ActionItemRow.position")

    # Optimistic concurrency: every UPDATE says "WHERE version = <the version I read>".
    __mapper_args__ = {"version_id_col": version}


class ServiceRow(Base):
    __tablename__ = "incident_services"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = incident_fk()
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200), index=True)


class TagRow(Base):
    __tablename__ = "incident_tags"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = incident_fk()
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200), index=True)


class ParticipantRow(Base):
    __tablename__ = "participants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = incident_fk()
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
    incident_id: Mapped[int] = incident_fk()
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
    incident_id: Mapped[int] = incident_fk()
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
    incident_id: Mapped[int] = incident_fk()
    version: Mapped[int] = mapped_column(Integer)
    author: Mapped[str] = mapped_column(String(200), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    action: Mapped[str] = mapped_column(String(40))
    note: Mapped[str] = mapped_column(Text, default="")
    changes: Mapped[list[Any]] = mapped_column(JSON)
