"""The insights' facts: one narrow row per incident, per contributing-factor category and per
action item, kept in step by storage/insight_facts.py in the transaction of every change
(migration 0021).

The dashboard (services/insights.py) reads these instead of the incidents, their timelines,
revisions and analysis JSON: each row holds what its numbers need, already computed — the
month, severity, visibility and archive state to filter and group on, the four response
times and the seconds to the first publication. A covering index in the order the dashboard
filters (archived, restricted, created_at) answers its queries from the index alone. Both
tables cascade-delete with their incident.

Kept out of storage/models.py (imported by services/database.py, storage/backup.py and
storage/repository.py, so `Base.metadata` always has them).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hindsight.storage.coltypes import UTCDateTime
from hindsight.storage.models import Base

# Facts of the response times, named as analysis/insights.METRICS (in seconds).
METRIC_COLUMNS = {
    "time_to_detect": "detect_s",
    "time_to_acknowledge": "acknowledge_s",
    "time_to_mitigate": "mitigate_s",
    "time_to_resolve": "resolve_s",
}


class InsightIncidentRow(Base):
    """What the insights need of one incident."""

    __tablename__ = "insight_incidents"
    __table_args__ = (
        Index(
            "ix_insight_incidents_range",
            "archived",
            "restricted",
            "created_at",
            "severity",
            "month",
            "detect_s",
            "acknowledge_s",
            "mitigate_s",
            "resolve_s",
            "publish_s",
            "incident_id",
        ),
    )

    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    month: Mapped[str] = mapped_column(String(7))  # 'YYYY-MM' of created_at (UTC)
    severity: Mapped[str] = mapped_column(String(8))
    restricted: Mapped[bool] = mapped_column(Boolean)
    archived: Mapped[bool] = mapped_column(Boolean)
    # Response times in seconds (to the millisecond); NULL when a moment is missing or the
    # moments are out of order (a negative time, left out as analysis/insights.py says).
    detect_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    acknowledge_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    mitigate_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    resolve_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    # Seconds from creation to the first publication (a `publish` revision); NULL if none.
    publish_s: Mapped[float | None] = mapped_column(Float, nullable=True)


class InsightFactorRow(Base):
    """One contributing-factor category of one incident (once however many factors have it),
    with copies of the incident's facts the dashboard filters on."""

    __tablename__ = "insight_factors"
    __table_args__ = (
        Index(
            "ix_insight_factors_range",
            "archived",
            "restricted",
            "created_at",
            "severity",
            "category",
            "incident_id",
        ),
    )

    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    category: Mapped[str] = mapped_column(String(200), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    severity: Mapped[str] = mapped_column(String(8))
    restricted: Mapped[bool] = mapped_column(Boolean)
    archived: Mapped[bool] = mapped_column(Boolean)


class InsightItemRow(Base):
    """What the insights need of one action item, with its incident's facts, so the counts
    per month and team are a grouped pass over one index with no join and no expression."""

    __tablename__ = "insight_items"
    __table_args__ = (
        Index(
            "ix_insight_items_range",
            "archived",
            "restricted",
            "created_at",
            "severity",
            "opened_month",
            "closed_month",
            "team",
            "due",
            "late_month",
            "kind",
            "priority",
            "close_s",
            "incident_id",
        ),
        # Open items by due date: those due earlier this month, which the monthly rollups
        # cannot tell (services/insights.py).
        Index(
            "ix_insight_items_due",
            "archived",
            "restricted",
            "due",
            "created_at",
            "severity",
            "team",
            "incident_id",
        ),
    )

    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())  # the incident's
    severity: Mapped[str] = mapped_column(String(8))
    restricted: Mapped[bool] = mapped_column(Boolean)
    archived: Mapped[bool] = mapped_column(Boolean)
    opened_month: Mapped[str] = mapped_column(String(7))
    closed_month: Mapped[str | None] = mapped_column(String(7), nullable=True)
    # An open item's due date (it is overdue once the date has passed); NULL once closed.
    due: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    # A closed item's due month if it was closed after the end of its due date, else NULL.
    late_month: Mapped[str | None] = mapped_column(String(7), nullable=True)
    team: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    priority: Mapped[str] = mapped_column(String(4))
    close_s: Mapped[float | None] = mapped_column(Float, nullable=True)  # opened to closed


class InsightRollupRow(Base):
    """Counts (and sums, for histograms) of the facts of the incidents that are not archived,
    per scope, visibility (restricted or not), severity, measure, incident month, key and
    histogram bucket (storage/insight_rollups.py says what each measure counts). Kept in step
    by adding what an incident's new facts count and subtracting what its old ones did, in
    the transaction of the change, so the dashboard reads whole months from here."""

    __tablename__ = "insight_rollups"

    # '' every incident, 's:<service>' or 't:<team>' (a participant's team).
    scope: Mapped[str] = mapped_column(String(210), primary_key=True)
    # Restricted incidents' counts apart: only those who see every incident read them.
    restricted: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    severity: Mapped[str] = mapped_column(String(8), primary_key=True)  # or '*': any
    measure: Mapped[str] = mapped_column(String(40), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)  # the incident's
    key: Mapped[str] = mapped_column(String(220), primary_key=True)
    bucket: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    n: Mapped[int] = mapped_column(Integer)
    total: Mapped[float] = mapped_column(Float)


class InsightScopeRow(Base):
    """A scope an incident's facts were counted under in the rollups (its services and its
    participants' teams when they were counted), so that they can be subtracted after the
    services or teams change."""

    __tablename__ = "insight_scopes"

    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    scope: Mapped[str] = mapped_column(String(210), primary_key=True)
