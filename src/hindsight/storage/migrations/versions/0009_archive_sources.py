"""Archive import: the report each imported incident came from (re-import updates it), with
the report's digest and the flags its reading raised.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 02:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "archive_sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_archive_sources_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_archive_sources")),
        sa.UniqueConstraint("source", name=op.f("uq_archive_sources_source")),
    )
    with op.batch_alter_table("archive_sources", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_archive_sources_incident_id"), ["incident_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("archive_sources", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_archive_sources_incident_id"))
    op.drop_table("archive_sources")
