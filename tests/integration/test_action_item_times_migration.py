"""Migration 0016: action items get when they opened and closed, from their incident."""

from __future__ import annotations

from sqlalchemy import inspect, text

from hindsight.storage.db import downgrade_database, make_engine, upgrade_database

INCIDENT = (
    "INSERT INTO incidents (id, key, title, summary, public_summary, report_template, "
    "moment_order_note, severity, status, review_status, visibility, analysis, impact, "
    "response, lessons, created_at, updated_at, version) VALUES (1, 'k', 't', '', '', '', '', "
    "'SEV2', 'resolved', 'draft', 'internal', '{}', '{}', '{}', '[]', "
    ":created, :updated, 3)"
)
ITEM = (
    "INSERT INTO action_items (incident_id, position, item_id, title, kind, owner, priority, "
    "status, reason, tracker_url) VALUES (1, :n, :id, :title, 'prevent', '', 'P3', :status, "
    "'', '')"
)


def test_0016_backfills_item_times_from_the_incident_and_goes_back_down(
    empty_database_url: str,
) -> None:
    engine = make_engine(empty_database_url)
    created, updated = "2024-03-05 09:00:00.000000", "2024-03-09 17:30:00.000000"
    try:
        upgrade_database(engine, "0008")
        with engine.begin() as connection:
            connection.execute(text(INCIDENT), {"created": created, "updated": updated})
            for n, status in enumerate(("open", "done", "wont_do")):
                connection.execute(
                    text(ITEM), {"n": n, "id": f"ai-00000{n}", "title": status, "status": status}
                )
        upgrade_database(engine, "0016")
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT title, opened_at, closed_at FROM action_items ORDER BY position")
            ).all()
        stamps = [(t, str(o)[:19], str(c)[:19] if c else None) for t, o, c in rows]
        assert stamps == [
            ("open", "2024-03-05 09:00:00", None),
            ("done", "2024-03-05 09:00:00", "2024-03-09 17:30:00"),
            ("wont_do", "2024-03-05 09:00:00", "2024-03-09 17:30:00"),
        ]
        indexes = {ix["name"] for ix in inspect(engine).get_indexes("timeline_events")}
        assert "ix_timeline_events_key_moments" in indexes
        downgrade_database(engine, "0008")
        columns = {c["name"] for c in inspect(engine).get_columns("action_items")}
        assert {"opened_at", "closed_at"} & columns == set()
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM action_items")).scalar() == 3
    finally:
        engine.dispose()
