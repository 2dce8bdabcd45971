"""When each action item opened and closed, and an index over marked key moments.

The cross-postmortem action-item list shows an item's age and time to close, and the insights
count items opened and closed per month and the median time to close; both need the two
moments, which revisions hold only as diffs (reading every revision of every incident per
page would not scale). storage/repository.py keeps them from now on. Existing items get the
best the database knows: opened when their incident was created; closed (if done or won't do)
when their incident was last updated — an upper bound, said so in docs/web.md.

The partial index over timeline events with a key moment lets the insights read the few
marked moments of many incidents without scanning every event.

Revision ID: 0016
Revises: 0008
Create Date: 2026-12-02 02:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hindsight.storage.coltypes import UTCDateTime

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_MARKED = "key_moment IS NOT NULL"


def upgrade() -> None:
    # action_items has no children, so batch mode (a table copy on SQLite) loses nothing.
    with op.batch_alter_table("action_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("opened_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("closed_at", UTCDateTime(), nullable=True))
        batch_op.create_index("ix_action_items_opened_at", ["opened_at"], unique=False)
        batch_op.create_index("ix_action_items_closed_at", ["closed_at"], unique=False)
    op.execute(
        "UPDATE action_items SET opened_at = (SELECT incidents.created_at FROM incidents "
        "WHERE incidents.id = action_items.incident_id)"
    )
    op.execute(
        "UPDATE action_items SET closed_at = (SELECT incidents.updated_at FROM incidents "
        "WHERE incidents.id = action_items.incident_id) WHERE status IN ('done', 'wont_do')"
    )
    op.create_index(
        "ix_timeline_events_key_moments",
        "timeline_events",
        ["incident_id", "key_moment", "at"],
        unique=False,
        sqlite_where=sa.text(_MARKED),
        postgresql_where=sa.text(_MARKED),
    )


def downgrade() -> None:
    op.drop_index("ix_timeline_events_key_moments", table_name="timeline_events")
    with op.batch_alter_table("action_items", schema=None) as batch_op:
        batch_op.drop_index("ix_action_items_closed_at")
        batch_op.drop_index("ix_action_items_opened_at")
        batch_op.drop_column("closed_at")
        batch_op.drop_column("opened_at")
