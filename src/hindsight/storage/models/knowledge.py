"""What is kept about incidents across the archive: lint dismissals, where an archived
report came from, similarity profiles, recurrence links and dismissed recurrences."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hindsight.storage.coltypes import UTCDateTime
from hindsight.storage.models.base import Base, incident_fk


class LintDismissalRow(Base):
    """A lint finding the author dismissed with a reason: it stops counting in the score."""

    __tablename__ = "lint_dismissals"
    __table_args__ = (
        UniqueConstraint("incident_id", "rule", "field", name="uq_lint_dismissals_finding"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = incident_fk()
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
    incident_id: Mapped[int] = incident_fk()
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
    incident_id: Mapped[int] = incident_fk()
    other_id: Mapped[int] = incident_fk()
    earlier: Mapped[bool] = mapped_column(Boolean)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class RecurrenceDismissalRow(Base):
    """A suggested recurrence someone said is not one: it is not suggested again."""

    __tablename__ = "recurrence_dismissals"
    __table_args__ = (UniqueConstraint("incident_id", "other_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = incident_fk()
    other_id: Mapped[int] = incident_fk()
    dismissed_by: Mapped[str] = mapped_column(String(200))
    dismissed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
