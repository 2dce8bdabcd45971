"""Indexes that match the incident list's sort orders.

The list pages through incidents in (created_at, id) or (updated_at, id) order, optionally by
severity, and counts what the reader may see. Composite indexes let both databases walk them
in order and stop after one page, instead of sorting every visible incident per request
(measured in bench/web). The index on `visibility` is dropped: it matches nearly every row,
and SQLite's planner preferred it to the sort-order index, then sorted the whole table.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 07:35:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# `visibility` rides along so the list's access rule is checked from the index alone, without
# reading each skipped row (deep pages walk tens of thousands of entries).
_COMPOSITES = {
    "ix_incidents_created_at_id": ["created_at", "id", "visibility"],
    "ix_incidents_updated_at_id": ["updated_at", "id", "visibility"],
    "ix_incidents_severity_created_at_id": ["severity", "created_at", "id", "visibility"],
}
RESTRICTED = "ix_incidents_restricted"
_REPLACED = {
    "ix_incidents_created_at": ["created_at"],
    "ix_incidents_updated_at": ["updated_at"],
    "ix_incidents_severity": ["severity"],
    "ix_incidents_visibility": ["visibility"],
}


def upgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        for name in _REPLACED:
            batch_op.drop_index(name)
        for name, columns in _COMPOSITES.items():
            batch_op.create_index(name, columns, unique=False)
    # The few restricted incidents, so "how many can this reader not see" is a tiny count.
    where = sa.text("visibility = 'restricted'")
    op.create_index(RESTRICTED, "incidents", ["id"], sqlite_where=where, postgresql_where=where)


def downgrade() -> None:
    op.drop_index(RESTRICTED, table_name="incidents")
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        for name in _COMPOSITES:
            batch_op.drop_index(name)
        for name, columns in _REPLACED.items():
            batch_op.create_index(name, columns, unique=False)
