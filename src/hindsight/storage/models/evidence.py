"""What importers bring to an incident: their runs, the events they propose, the metric
series, and the tokens monitoring systems post alerts with."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from hindsight.storage.coltypes import UTCDateTime
from hindsight.storage.models.base import Base, incident_fk


class EvidenceImportRow(Base):
    """One run of an importer against an incident: what it read and what came of it."""

    __tablename__ = "evidence_imports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = incident_fk()
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
    incident_id: Mapped[int] = incident_fk()
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
    incident_id: Mapped[int] = incident_fk()
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class MetricSeriesRow(Base):
    """A metric series imported as evidence for one incident: its samples are one bounded JSON
    list ([unix seconds, value] pairs, at most MAX_STORED_POINTS, downsampled when longer)."""

    __tablename__ = "metric_series"
    __table_args__ = (UniqueConstraint("incident_id", "name", "labels_text", "role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = incident_fk()
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
