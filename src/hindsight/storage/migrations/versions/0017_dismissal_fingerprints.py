"""A dismissal remembers the text it dismissed (Finding.fingerprint): when the text changes,
the finding counts again. Dismissals made before this have no fingerprint and match by rule
and field, as they did.

Revision ID: 0017
Revises: 0014
Create Date: 2026-12-02 03:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("lint_dismissals", sa.Column("fingerprint", sa.String(length=64), nullable=True))


def downgrade() -> None:
    # lint_dismissals has no child tables, so rebuilding it on SQLite loses nothing.
    with op.batch_alter_table("lint_dismissals") as batch:
        batch.drop_column("fingerprint")
