"""Full-text search: the index of every part of every incident (storage/search_index.py).

SQLite: `search_documents` (one text column per part) read by an FTS5 table with the porter
stemmer, kept in step by triggers. PostgreSQL: the same table with a generated, weighted
`tsvector` column and a GIN index. `search_facets` holds the values facets count. Both
cascade-delete with their incident. The upgrade fills the index for existing incidents;
the downgrade drops it.

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-02 02:30:00
"""

from __future__ import annotations

from alembic import op

from hindsight.storage.search_index import (
    create_search_index,
    drop_search_index,
    rebuild_search_index,
)

revision = "0010"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    connection = op.get_bind()
    create_search_index(connection)
    rebuild_search_index(connection)


def downgrade() -> None:
    drop_search_index(op.get_bind())
