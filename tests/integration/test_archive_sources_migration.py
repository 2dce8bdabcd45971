"""Migration 0009 (archive sources) goes up and down on both databases."""

from __future__ import annotations

from sqlalchemy import inspect

from hindsight.storage.db import downgrade_database, make_engine, upgrade_database


def test_migration_0009_adds_the_archive_sources_table_and_takes_it_away(
    empty_database_url: str,
) -> None:
    engine = make_engine(empty_database_url)
    try:
        upgrade_database(engine)
        inspector = inspect(engine)
        assert "archive_sources" in inspector.get_table_names()
        columns = {c["name"] for c in inspector.get_columns("archive_sources")}
        assert columns == {"id", "source", "incident_id", "digest", "flags", "imported_at"}
        indexes = {ix["name"] for ix in inspector.get_indexes("archive_sources")}
        assert "ix_archive_sources_incident_id" in indexes
        downgrade_database(engine, "0008")
        assert "archive_sources" not in inspect(engine).get_table_names()
        assert "incidents" in inspect(engine).get_table_names()
        upgrade_database(engine)
        assert "archive_sources" in inspect(engine).get_table_names()
    finally:
        engine.dispose()
