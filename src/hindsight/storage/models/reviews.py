"""The review of a postmortem: reviewers' decisions and comments on its sections."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hindsight.storage.coltypes import UTCDateTime
from hindsight.storage.models.base import Base, incident_fk, user_fk


class CommentRow(Base):
    __tablename__ = "comments"
    __table_args__ = (Index("ix_comments_incident_section", "incident_id", "section"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = incident_fk()
    section: Mapped[str] = mapped_column(String(40))
    author_id: Mapped[int] = user_fk()
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class ReviewRow(Base):
    __tablename__ = "reviews"
    __table_args__ = (UniqueConstraint("incident_id", "reviewer_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = incident_fk()
    reviewer_id: Mapped[int] = user_fk()
    decision: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
