"""Migration 0023: the insights' rollups and scopes, filled from the facts of existing
incidents, and back down, on both databases."""

from __future__ import annotations

from sqlalchemy import inspect

from hindsight.services.database import Database
from hindsight.storage.db import downgrade_database, upgrade_database
from tests.integration.test_insight_facts import _facts
from tests.integration.test_insight_facts_migration import stored_mix

TABLES = {"insight_rollups", "insight_scopes"}


def test_0023_fills_the_rollups_of_existing_incidents_and_goes_back_down(
    fresh_database: Database,
) -> None:
    before = stored_mix(fresh_database)
    # Four incidents counted as unrestricted (one archived), SEV2 to SEV5, and one restricted.
    counted = {
        (key[1], key[5]): n
        for key, (n, _) in before["rollups"].items()
        if key[0] == "" and key[2:4] == ("*", "incidents")
    }
    assert counted == {
        **{(False, f"SEV{n}"): 1 for n in range(2, 6)},
        (True, "SEV2"): 1,
    }
    downgrade_database(fresh_database.engine, "0022")
    assert not TABLES & set(inspect(fresh_database.engine).get_table_names())
    upgrade_database(fresh_database.engine)
    assert set(inspect(fresh_database.engine).get_table_names()) >= TABLES
    with fresh_database.reading() as session:
        assert _facts(session) == before
