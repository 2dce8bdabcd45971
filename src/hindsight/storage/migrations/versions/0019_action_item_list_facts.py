"""Action items carry the facts their list filters and sorts on, with covering indexes.

At 100,000 incidents (~500,000 items) every page of the cross-postmortem list joined all items
to their incidents for visibility, archive state and severity, and looked up the owner's team
per item, before it could sort: seconds per page. Each item row now holds copies of its
incident's severity, whether it is restricted and whether it is archived, and its owner's team
(the first participant of the owner's name with a team). storage/repository.py writes them with
the item, in the transaction that changes the incident; this migration fills them for existing
items. Three covering indexes in the list's default order (due date, undated last), whole,
per owner and per team, let a page walk an index and stop after offset + limit rows, and
counts subtract the few archived and restricted items (found through the first index and one
over `restricted`) from a cheap total. One more covers what the insights read of items.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 07:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

_DUE_ORDER = sa.text("(due IS NULL)")
_VISIBILITY = ["restricted", "incident_id"]
_INDEXES: dict[str, list[str | sa.TextClause]] = {
    "ix_action_items_list_due": ["archived", _DUE_ORDER, "due", "id", *_VISIBILITY],
    "ix_action_items_owner_due": ["owner", "archived", _DUE_ORDER, "due", "id", *_VISIBILITY],
    "ix_action_items_restricted": ["restricted", "archived", "incident_id"],
    "ix_action_items_insights": [
        "incident_id",
        "opened_at",
        "closed_at",
        "due",
        "team",
        "kind",
        "priority",
    ],
    "ix_action_items_team_due": [
        "team",
        "archived",
        _DUE_ORDER,
        "due",
        "id",
        *_VISIBILITY,
        "status",
        "priority",
    ],
}

# The same rule as storage/repository.py's `item_facts`, in SQL.
BACKFILL = """
UPDATE action_items SET
  severity = (SELECT incidents.severity FROM incidents
              WHERE incidents.id = action_items.incident_id),
  restricted = (SELECT incidents.visibility = 'restricted' FROM incidents
                WHERE incidents.id = action_items.incident_id),
  archived = (SELECT incidents.archived_at IS NOT NULL FROM incidents
              WHERE incidents.id = action_items.incident_id),
  team = COALESCE((SELECT participants.team FROM participants
                   WHERE participants.incident_id = action_items.incident_id
                     AND participants.name = action_items.owner
                     AND participants.team <> ''
                   ORDER BY participants.position LIMIT 1), '')
"""


def upgrade() -> None:
    false = sa.text("false")
    op.add_column(
        "action_items", sa.Column("severity", sa.String(8), nullable=False, server_default="")
    )
    op.add_column(
        "action_items", sa.Column("restricted", sa.Boolean(), nullable=False, server_default=false)
    )
    op.add_column(
        "action_items", sa.Column("archived", sa.Boolean(), nullable=False, server_default=false)
    )
    op.add_column(
        "action_items", sa.Column("team", sa.String(200), nullable=False, server_default="")
    )
    op.execute(BACKFILL)
    op.create_index("ix_action_items_severity", "action_items", ["severity"], unique=False)
    for name, columns in _INDEXES.items():
        op.create_index(name, "action_items", columns, unique=False)


def downgrade() -> None:
    for name in (*reversed(_INDEXES), "ix_action_items_severity"):
        op.drop_index(name, table_name="action_items")
    # action_items has no children, so batch mode (a table copy on SQLite) loses nothing.
    with op.batch_alter_table("action_items", schema=None) as batch_op:
        for column in ("team", "archived", "restricted", "severity"):
            batch_op.drop_column(column)
