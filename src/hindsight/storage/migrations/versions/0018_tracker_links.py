"""An index over action items' tracker links, for the trackers' webhooks.

A GitHub or Jira webhook names an issue; Hindsight finds the items exported as that issue by
their `tracker_url`. Without an index that is a scan of every action item per delivery. Only
items with a link are indexed (most have none). PostgreSQL gets a hash index: a btree entry is
limited to about 2.7 kB and a link may be 2,000 characters of any script; equality is all the
lookup needs.

Revision ID: 0018
Revises: 0016
Create Date: 2026-12-02 03:55:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0016"
branch_labels = None
depends_on = None

_LINKED = "tracker_url <> ''"


def upgrade() -> None:
    op.create_index(
        "ix_action_items_tracker_url",
        "action_items",
        ["tracker_url"],
        unique=False,
        sqlite_where=sa.text(_LINKED),
        postgresql_where=sa.text(_LINKED),
        postgresql_using="hash",
    )


def downgrade() -> None:
    op.drop_index("ix_action_items_tracker_url", table_name="action_items")
