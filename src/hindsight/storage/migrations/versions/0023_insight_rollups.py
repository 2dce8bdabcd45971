"""The insights' monthly rollups: `insight_rollups` (counts and histogram sums per scope,
severity, measure, incident month, key and bucket, storage/insight_rollups.py) and
`insight_scopes` (the scopes each incident was counted under), filled from the facts of
migration 0021; and an index of the items' facts by due date (open items due earlier this
month, which monthly counts cannot tell).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hindsight.storage.insight_rollups import rebuild_insight_rollups

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "insight_rollups",
        sa.Column("scope", sa.String(length=210), nullable=False),
        sa.Column("restricted", sa.Boolean(), nullable=False),
        sa.Column("severity", sa.String(length=8), nullable=False),
        sa.Column("measure", sa.String(length=40), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("key", sa.String(length=220), nullable=False),
        sa.Column("bucket", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("total", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint(
            "scope",
            "restricted",
            "severity",
            "measure",
            "month",
            "key",
            "bucket",
            name=op.f("pk_insight_rollups"),
        ),
    )
    op.create_table(
        "insight_scopes",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=210), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_insight_scopes_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("incident_id", "scope", name=op.f("pk_insight_scopes")),
    )
    op.create_index("ix_insight_scopes_incident_id", "insight_scopes", ["incident_id"])
    op.create_index(
        "ix_insight_items_due",
        "insight_items",
        [*("archived", "restricted", "due", "created_at", "severity", "team", "incident_id")],
    )
    rebuild_insight_rollups(op.get_bind())


def downgrade() -> None:
    op.drop_index("ix_insight_items_due", table_name="insight_items")
    op.drop_table("insight_scopes")
    op.drop_table("insight_rollups")
