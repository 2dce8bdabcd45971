"""Archived incidents: when and by whom an incident was archived (NULL: not archived).

Archived incidents leave the incident list, its counts and search, but stay in the database,
reachable by key for admins and the incident's members. Every list query now says
`archived_at IS NULL`, so the column joins the list's sort indexes (after `visibility`) and
the check is made from the index alone, as 0003 does for visibility. Measured at 100,000
incidents (0.5 % archived, 2 % restricted), best of 20 interleaved runs, `list_postmortems`
for an editor: SQLite deep page (offset 50,000) 120 → 67 ms, severity filter at offset 5,000
65 → 25 ms, first page 75 → 49 ms; PostgreSQL within noise either way (deep page 49 → 39 ms,
first page 77 → 93 ms on a loaded machine).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hindsight.storage.coltypes import UTCDateTime
from hindsight.storage.migrations.helpers import drop_parent_column

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_SORT_INDEXES = {
    "ix_incidents_created_at_id": ["created_at", "id", "visibility"],
    "ix_incidents_updated_at_id": ["updated_at", "id", "visibility"],
    "ix_incidents_severity_created_at_id": ["severity", "created_at", "id", "visibility"],
}


def upgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("archived_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("archived_by", sa.String(200), nullable=True))
        for name, columns in _SORT_INDEXES.items():
            batch_op.drop_index(name)
            batch_op.create_index(name, [*columns, "archived_at"], unique=False)


def downgrade() -> None:
    # Indexes first (a column in an index cannot be dropped), then the columns in place: batch
    # mode would recreate `incidents` and, on SQLite, cascade-delete every child row.
    for name, columns in _SORT_INDEXES.items():
        op.drop_index(name, table_name="incidents")
        op.create_index(name, "incidents", columns, unique=False)
    drop_parent_column("incidents", "archived_by")
    drop_parent_column("incidents", "archived_at")
