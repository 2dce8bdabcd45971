"""The job queue (huey's storage, storage/queue.py; migration 0015), periodic job runs and
the long jobs started from the web."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Float, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hindsight.storage.coltypes import UTCDateTime
from hindsight.storage.models.base import Base, user_fk


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
    user_id: Mapped[int] = user_fk()
    incident_key: Mapped[str] = mapped_column(String(80))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(20), index=True)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str] = mapped_column(Text, default="")
    result: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
