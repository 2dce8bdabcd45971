"""Migration 0018: the partial index over action items' tracker links, up and down."""

from __future__ import annotations

from sqlalchemy import inspect, text

from hindsight.storage.db import downgrade_database, make_engine, upgrade_database
from tests.integration.test_action_item_times_migration import INCIDENT, ITEM


def test_0018_indexes_tracker_links_and_goes_back_down(empty_database_url: str) -> None:
    engine = make_engine(empty_database_url)
    stamp = "2024-03-05 09:00:00.000000"
    try:
        upgrade_database(engine, "0016")
        with engine.begin() as connection:
            connection.execute(text(INCIDENT), {"created": stamp, "updated": stamp})
            connection.execute(
                text(ITEM), {"n": 0, "id": "ai-000000", "title": "t", "status": "open"}
            )
        upgrade_database(engine, "0018")
        names = {ix["name"] for ix in inspect(engine).get_indexes("action_items")}
        assert "ix_action_items_tracker_url" in names
        with engine.begin() as connection:
            long_link = "https://tracker.example/" + "é" * 1900  # past a btree entry's limit
            connection.execute(text("UPDATE action_items SET tracker_url = :u"), {"u": long_link})
            query = "SELECT item_id FROM action_items WHERE tracker_url = :u AND tracker_url <> ''"
            found = connection.execute(text(query), {"u": long_link}).scalars().all()
        assert found == ["ai-000000"]
        downgrade_database(engine, "0016")
        names = {ix["name"] for ix in inspect(engine).get_indexes("action_items")}
        assert "ix_action_items_tracker_url" not in names
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM action_items")).scalar() == 1
    finally:
        engine.dispose()
