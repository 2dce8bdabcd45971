"""PostgreSQL's facet filters from the index: `search_documents.tokens` filled there too (one
word per facet value and flag, as SQLite's FTS5 column already holds) and a GIN index of
`to_tsvector('simple', tokens)`, so a facet filter is a bitmap ANDed with the words' bitmap
instead of a join to `search_facets`. Nothing changes on SQLite. The downgrade drops the index
and empties `tokens` again.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-03 12:20:00
"""

from __future__ import annotations

from alembic import op

from hindsight.storage.search.tokens import index_tokens, unindex_tokens

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    index_tokens(op.get_bind())


def downgrade() -> None:
    unindex_tokens(op.get_bind())
