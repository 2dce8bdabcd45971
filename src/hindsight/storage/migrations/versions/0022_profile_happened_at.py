"""Similar incidents order "earlier" by when an incident happened: each profile holds its
incident's `happened_at` (impact started, else the first event, else NULL: read as the
creation time), filled in for existing profiles; an index on `updated_at` lets every process
check cheaply whether its in-memory similarity index is current (services/similar_index.py).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-02 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hindsight.storage.coltypes import UTCDateTime

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


# services/profiles.happened_at in SQL: impact started, else the first event (else NULL).
BACKFILL = """
UPDATE incident_profiles SET happened_at = COALESCE(
    (SELECT min(e.at) FROM timeline_events e
     WHERE e.incident_id = incident_profiles.incident_id AND e.key_moment = 'impact_started'),
    (SELECT min(e.at) FROM timeline_events e
     WHERE e.incident_id = incident_profiles.incident_id))
"""


def upgrade() -> None:
    with op.batch_alter_table("incident_profiles") as batch:
        batch.add_column(sa.Column("happened_at", UTCDateTime(timezone=True), nullable=True))
    op.create_index("ix_incident_profiles_updated_at", "incident_profiles", ["updated_at"])
    op.execute(BACKFILL)


def downgrade() -> None:
    op.drop_index("ix_incident_profiles_updated_at", table_name="incident_profiles")
    with op.batch_alter_table("incident_profiles") as batch:
        batch.drop_column("happened_at")
