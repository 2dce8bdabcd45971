"""Lint findings dismissed by the author with a reason (one per incident, rule and field).

Revision ID: 0014
Revises: 0008
Create Date: 2026-12-02 03:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hindsight.storage.coltypes import UTCDateTime

revision = "0014"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lint_dismissals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=100), nullable=False),
        sa.Column("field", sa.String(length=300), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("incident_id", "rule", "field", name="uq_lint_dismissals_finding"),
    )
    op.create_index("ix_lint_dismissals_incident_id", "lint_dismissals", ["incident_id"])


def downgrade() -> None:
    op.drop_index("ix_lint_dismissals_incident_id", table_name="lint_dismissals")
    op.drop_table("lint_dismissals")
