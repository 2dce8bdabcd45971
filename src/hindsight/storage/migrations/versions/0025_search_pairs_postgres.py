"""PostgreSQL's two-word phrases from the index: `search_pairs(document)`, the pairs of
lexemes at adjacent positions, and GIN indexes of it for `document` and `head`
(storage/search/pairs.py), so that a phrase of two words is counted and found without reading
each candidate's `tsvector` from TOAST. Nothing is stored in the rows; nothing changes on
SQLite. 90 s at 100,000 incidents. The downgrade drops the indexes and the function.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-03 16:20:00
"""

from __future__ import annotations

from alembic import op

from hindsight.storage.search.pairs import create_pairs_index, drop_pairs_index

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_pairs_index(op.get_bind())


def downgrade() -> None:
    drop_pairs_index(op.get_bind())
