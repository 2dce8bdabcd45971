"""Search filters in the index: each search document holds its incident's `restricted` and
`archived` flags and `tokens` (one word per facet value and flag, indexed by FTS5 in a column
of its own), so search never joins a hit to the wide `incidents` row; PostgreSQL also gets
`head`, a weighted `tsvector` of the parts that weigh most, with a GIN index, to draw a
bounded candidate set from when a query has too many hits to rank them all. The upgrade
refills the index for existing incidents; the downgrade goes back to 0010's shape, keeping the
indexed text.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02 07:45:00
"""

from __future__ import annotations

from alembic import op

from hindsight.storage.search_filters_migration import add_search_filters, remove_search_filters

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_search_filters(op.get_bind())


def downgrade() -> None:
    remove_search_filters(op.get_bind())
