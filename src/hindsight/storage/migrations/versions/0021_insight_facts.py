"""The insights' facts: `insight_incidents` (one row per incident: month, severity, restricted,
archived, the four response times and the seconds to first publication) and
`insight_factors` (one row per incident and contributing-factor category) and `insight_items`
(one row per action item: opened, closed and late months, due date while open, team, kind,
priority, seconds to close, with its incident's facts), each with a covering index in the
dashboard's filter order. storage/insight_facts.py writes them in the
transaction of every change; the upgrade fills them for existing incidents, 500 at a time.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02 15:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hindsight.storage.insight_facts import refresh_insight_facts

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

_TABLES = ("insight_incidents", "insight_factors", "insight_items")
_METRICS = ("detect_s", "acknowledge_s", "mitigate_s", "resolve_s", "publish_s")


def _incident_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["incident_id"],
        ["incidents.id"],
        name=op.f(f"fk_{table}_incident_id_incidents"),
        ondelete="CASCADE",
    )


def _shared() -> list[sa.Column[object]]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("severity", sa.String(length=8), nullable=False),
        sa.Column("restricted", sa.Boolean(), nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "insight_incidents",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        *_shared(),
        sa.Column("month", sa.String(length=7), nullable=False),
        *(sa.Column(name, sa.Float(), nullable=True) for name in _METRICS),
        _incident_fk("insight_incidents"),
        sa.PrimaryKeyConstraint("incident_id", name=op.f("pk_insight_incidents")),
    )
    op.create_table(
        "insight_factors",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=200), nullable=False),
        *_shared(),
        _incident_fk("insight_factors"),
        sa.PrimaryKeyConstraint("incident_id", "category", name=op.f("pk_insight_factors")),
    )
    op.create_table(
        "insight_items",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        *_shared(),
        *(
            sa.Column(f"{name}_month", sa.String(length=7), nullable=name != "opened")
            for name in ("opened", "closed", "late")
        ),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("team", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("priority", sa.String(length=4), nullable=False),
        sa.Column("close_s", sa.Float(), nullable=True),
        _incident_fk("insight_items"),
        sa.PrimaryKeyConstraint("incident_id", "position", name=op.f("pk_insight_items")),
    )
    refresh_insight_facts(op.get_bind(), None, rollups=False)  # migration 0023 adds them
    for table in _TABLES:
        op.create_index(f"ix_{table}_incident_id", table, ["incident_id"], unique=False)
    op.create_index(
        "ix_insight_incidents_range",
        "insight_incidents",
        ["archived", "restricted", "created_at", "severity", "month", *_METRICS, "incident_id"],
        unique=False,
    )
    op.create_index(
        "ix_insight_factors_range",
        "insight_factors",
        ["archived", "restricted", "created_at", "severity", "category", "incident_id"],
        unique=False,
    )
    op.create_index(
        "ix_insight_items_range",
        "insight_items",
        [
            *("archived", "restricted", "created_at", "severity", "opened_month"),
            *("closed_month", "team", "due", "late_month", "kind", "priority", "close_s"),
            "incident_id",
        ],
        unique=False,
    )


def downgrade() -> None:
    for table in reversed(_TABLES):
        op.drop_table(table)
