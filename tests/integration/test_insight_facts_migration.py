"""Migration 0021: the insights' facts tables, filled for existing incidents (in batches of
storage/insight_facts.BATCH), and back down, on both databases."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import inspect

from hindsight.services.archive import archive_incident
from hindsight.services.database import Database
from hindsight.storage import insight_facts
from hindsight.storage.db import downgrade_database, upgrade_database
from tests.factories import make_incident
from tests.integration.test_insight_facts import _facts

TABLES = {"insight_incidents", "insight_factors"}


def stored_mix(database: Database) -> dict[str, Any]:
    """Five incidents of SEV1-SEV5 (the SEV1 one archived) and a restricted SEV2 one, stored;
    their facts and rollups."""
    with database.transaction() as session:
        for n in range(5):
            make_incident(session, key=f"2024-04-0{n + 1}-drift", severity=f"SEV{n + 1}")
        make_incident(session, key="2024-04-07-secret", visibility="restricted")
        archive_incident(session, key="2024-04-01-drift", author="tester")
    with database.reading() as session:
        return _facts(session)


def test_0021_fills_the_facts_of_existing_incidents_and_goes_back_down(
    fresh_database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = stored_mix(fresh_database)
    assert len(before["incidents"]) == 6 and len(before["factors"]) == 6
    downgrade_database(fresh_database.engine, "0020")
    assert not TABLES & set(inspect(fresh_database.engine).get_table_names())
    # Small batches, so that the backfill runs more than one.
    monkeypatch.setattr(insight_facts, "BATCH", 4)
    upgrade_database(fresh_database.engine)
    assert set(inspect(fresh_database.engine).get_table_names()) >= TABLES
    with fresh_database.reading() as session:
        assert _facts(session) == before
