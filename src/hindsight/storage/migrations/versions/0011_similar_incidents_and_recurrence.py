"""Similar incidents and recurrence: a ranking profile per incident (its words, factor
categories and embedding vector), recurrence links stored in both directions, and dismissed
recurrence suggestions.

Profiles are derived data: the upgrade leaves them empty and `hindsight similar --reindex`
(services/similar.py: refresh_profiles) computes them for incidents stored before it; every
change after it keeps them in step in the change's transaction.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 02:14:39
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hindsight.storage.coltypes import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "incident_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("other_id", sa.Integer(), nullable=False),
        sa.Column("earlier", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_incident_links_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["other_id"],
            ["incidents.id"],
            name=op.f("fk_incident_links_other_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_links")),
        sa.UniqueConstraint("incident_id", "other_id", name=op.f("uq_incident_links_incident_id")),
    )
    with op.batch_alter_table("incident_links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_incident_links_incident_id"), ["incident_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_incident_links_other_id"), ["other_id"], unique=False)

    op.create_table(
        "incident_profiles",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("terms", sa.Text(), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("model", sa.String(length=80), nullable=False),
        sa.Column("vector", sa.Text(), nullable=False),
        sa.Column("text_hash", sa.String(length=64), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_incident_profiles_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("incident_id", name=op.f("pk_incident_profiles")),
    )
    with op.batch_alter_table("incident_profiles", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_incident_profiles_incident_id"), ["incident_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_incident_profiles_model"), ["model"], unique=False)

    op.create_table(
        "recurrence_dismissals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("other_id", sa.Integer(), nullable=False),
        sa.Column("dismissed_by", sa.String(length=200), nullable=False),
        sa.Column("dismissed_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_recurrence_dismissals_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["other_id"],
            ["incidents.id"],
            name=op.f("fk_recurrence_dismissals_other_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recurrence_dismissals")),
        sa.UniqueConstraint(
            "incident_id", "other_id", name=op.f("uq_recurrence_dismissals_incident_id")
        ),
    )
    with op.batch_alter_table("recurrence_dismissals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_recurrence_dismissals_incident_id"), ["incident_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_recurrence_dismissals_other_id"), ["other_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("recurrence_dismissals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recurrence_dismissals_other_id"))
        batch_op.drop_index(batch_op.f("ix_recurrence_dismissals_incident_id"))

    op.drop_table("recurrence_dismissals")
    with op.batch_alter_table("incident_profiles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_profiles_model"))
        batch_op.drop_index(batch_op.f("ix_incident_profiles_incident_id"))

    op.drop_table("incident_profiles")
    with op.batch_alter_table("incident_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_links_other_id"))
        batch_op.drop_index(batch_op.f("ix_incident_links_incident_id"))

    op.drop_table("incident_links")
