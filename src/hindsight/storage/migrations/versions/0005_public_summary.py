"""A public summary per incident (the only prose the external report shows) and the report
template it is rendered with by default (empty: the team's default).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 10:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hindsight.storage.migrations.helpers import drop_parent_column

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("public_summary", sa.Text(), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("report_template", sa.String(80), nullable=False, server_default="")
        )


def downgrade() -> None:
    drop_parent_column("incidents", "report_template")
    drop_parent_column("incidents", "public_summary")
