"""Migration 0019: action items get copies of their incident's facts and the owner's team."""

from __future__ import annotations

from sqlalchemy import inspect, text

from hindsight.storage.db import downgrade_database, make_engine, upgrade_database
from tests.integration.test_action_item_times_migration import INCIDENT, ITEM

PARTICIPANT = (
    "INSERT INTO participants (incident_id, position, item_id, name, role, team) "
    "VALUES (1, :n, :id, :name, 'responder', :team)"
)


def test_0019_backfills_item_facts_from_the_incident_and_goes_back_down(
    empty_database_url: str,
) -> None:
    engine = make_engine(empty_database_url)
    stamp = "2024-03-05 09:00:00.000000"
    try:
        upgrade_database(engine, "0018")
        with engine.begin() as connection:
            connection.execute(text(INCIDENT), {"created": stamp, "updated": stamp})
            connection.execute(
                text(
                    "UPDATE incidents SET visibility = 'restricted', archived_at = :at, "
                    "archived_by = 'ops'"
                ),
                {"at": stamp},
            )
            for n, (name, team) in enumerate((("ana", ""), ("ana", "payments"), ("bo", "db"))):
                connection.execute(
                    text(PARTICIPANT), {"n": n, "id": f"pa-00000{n}", "name": name, "team": team}
                )
            for n, title in enumerate(("ana", "bo", "nobody")):
                connection.execute(
                    text(ITEM), {"n": n, "id": f"ai-00000{n}", "title": title, "status": "open"}
                )
            connection.execute(text("UPDATE action_items SET owner = title"))
        upgrade_database(engine, "0019")
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT owner, severity, restricted, archived, team FROM action_items "
                    "ORDER BY position"
                )
            ).all()
        # The first participant of the owner's name with a team; no participant, no team.
        assert [tuple(row) for row in rows] == [
            ("ana", "SEV2", True, True, "payments"),
            ("bo", "SEV2", True, True, "db"),
            ("nobody", "SEV2", True, True, ""),
        ]
        names = {ix["name"] for ix in inspect(engine).get_indexes("action_items")}
        assert "ix_action_items_restricted" in names
        downgrade_database(engine, "0018")
        columns = {c["name"] for c in inspect(engine).get_columns("action_items")}
        assert not {"severity", "restricted", "archived", "team"} & columns
        names = {ix["name"] for ix in inspect(engine).get_indexes("action_items")}
        assert not {"ix_action_items_restricted", "ix_action_items_severity"} & names
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM action_items")).scalar() == 3
    finally:
        engine.dispose()
