"""Migration 0022: profiles hold when their incident happened, with an index on `updated_at`
for the similarity index's version check; up over existing profiles, and back down."""

from __future__ import annotations

from sqlalchemy import inspect, text

from hindsight.services.database import Database
from hindsight.services.similar import find_similar
from hindsight.storage.db import downgrade_database, upgrade_database
from tests.factories import make_incident


def _columns(database: Database) -> set[str]:
    return {c["name"] for c in inspect(database.engine).get_columns("incident_profiles")}


def _indexes(database: Database) -> set[str]:
    return {ix["name"] for ix in inspect(database.engine).get_indexes("incident_profiles")}


def test_0022_adds_happened_at_and_the_updated_at_index_and_goes_back_down(
    fresh_database: Database,
) -> None:
    with fresh_database.transaction() as session:
        make_incident(session, key="2024-04-01-first", title="Certificate expired")
        make_incident(session, key="2024-04-02-again", title="Certificate expired again")
    downgrade_database(fresh_database.engine, "0021")
    assert "happened_at" not in _columns(fresh_database)
    assert "ix_incident_profiles_updated_at" not in _indexes(fresh_database)
    with fresh_database.reading() as session:
        assert session.scalar(text("SELECT count(*) FROM incident_profiles")) == 2
    upgrade_database(fresh_database.engine)
    assert "happened_at" in _columns(fresh_database)
    assert "ix_incident_profiles_updated_at" in _indexes(fresh_database)
    with fresh_database.reading() as session:
        # Filled in from the timeline: the factory's impact started at 2024-03-05 09:00.
        stamps = session.scalars(text("SELECT happened_at FROM incident_profiles")).all()
        assert len(stamps) == 2 and all("2024-03-05" in str(s) for s in stamps)
        found = find_similar(session, key="2024-04-02-again")
        assert [item.key for item in found.items] == ["2024-04-01-first"]
