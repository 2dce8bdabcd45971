"""Evidence import: suggested events, the import runs that proposed them, alert-hook tokens.

Suggested events live beside the timeline, not in it, so an import never rewrites what people
curated; accepting one copies it into the timeline (a normal revision). The unique
(incident, kind, key) makes re-importing the same file a no-op.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 09:32:38.588440
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hindsight.storage.coltypes

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "evidence_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("origin", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("at", hindsight.storage.coltypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("merged", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_evidence_imports_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_imports")),
    )
    with op.batch_alter_table("evidence_imports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_evidence_imports_incident_id"), ["incident_id"], unique=False
        )

    op.create_table(
        "hook_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column(
            "created_at", hindsight.storage.coltypes.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_hook_tokens_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hook_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_hook_tokens_token_hash")),
    )
    with op.batch_alter_table("hook_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_hook_tokens_incident_id"), ["incident_id"], unique=False
        )

    op.create_table(
        "evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("merged_into", sa.Integer(), nullable=True),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("signal", sa.String(length=40), nullable=False),
        sa.Column("at", hindsight.storage.coltypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("zone", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("event_kind", sa.String(length=40), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("provenance", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["evidence_imports.id"],
            name=op.f("fk_evidence_import_id_evidence_imports"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_evidence_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence")),
        sa.UniqueConstraint("incident_id", "kind", "key", name=op.f("uq_evidence_incident_id")),
    )
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evidence_import_id"), ["import_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_evidence_incident_id"), ["incident_id"], unique=False)
        batch_op.create_index(
            "ix_evidence_incident_state_at", ["incident_id", "state", "at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.drop_index("ix_evidence_incident_state_at")
        batch_op.drop_index(batch_op.f("ix_evidence_incident_id"))
        batch_op.drop_index(batch_op.f("ix_evidence_import_id"))

    op.drop_table("evidence")
    with op.batch_alter_table("hook_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hook_tokens_incident_id"))

    op.drop_table("hook_tokens")
    with op.batch_alter_table("evidence_imports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evidence_imports_incident_id"))

    op.drop_table("evidence_imports")
