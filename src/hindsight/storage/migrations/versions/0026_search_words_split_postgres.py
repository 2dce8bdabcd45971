"""PostgreSQL indexes a host, a URL, a path, an e-mail address, a version or a decimal as its
words, as SQLite does (storage/search_words.py): `document` and `head` are generated again
from the text with a separator after each joining character, with their GIN indexes and the
pairs' (every row is rewritten: 3-3.5 minutes at 100,000 incidents). Nothing on SQLite.
The downgrade generates them from the text as it is.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-04 02:45:00
"""

from __future__ import annotations

from alembic import op

from hindsight.storage.search_index import HEAD_PARTS, weighted_tsvector
from hindsight.storage.search_words import rebuild_vectors

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def _vectors(*, split: bool) -> dict[str, str]:
    return {
        "document": weighted_tsvector(split=split),
        "head": weighted_tsvector(HEAD_PARTS, split=split),
    }


def upgrade() -> None:
    rebuild_vectors(op.get_bind(), _vectors(split=True))


def downgrade() -> None:
    rebuild_vectors(op.get_bind(), _vectors(split=False))
