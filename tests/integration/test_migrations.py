"""Migrations build the schema from nothing and take it away again, on both databases."""

from __future__ import annotations

from sqlalchemy import inspect

from hindsight.storage.db import downgrade_database, make_engine, schema_revisions, upgrade_database


def test_an_empty_database_upgrades_to_head_and_back_down(empty_database_url: str) -> None:
    engine = make_engine(empty_database_url)
    try:
        upgrade_database(engine)
        current, head = schema_revisions(engine)
        assert current == head is not None
        tables = set(inspect(engine).get_table_names())
        assert {"incidents", "timeline_events", "action_items", "revisions"} <= tables
        downgrade_database(engine, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        assert schema_revisions(engine)[0] is None
        upgrade_database(engine)
        assert schema_revisions(engine)[0] == head
    finally:
        engine.dispose()


def test_every_foreign_key_is_indexed(empty_database_url: str) -> None:
    engine = make_engine(empty_database_url)
    try:
        upgrade_database(engine)
        inspector = inspect(engine)
        for table in inspector.get_table_names():
            indexed = {tuple(ix["column_names"][:1]) for ix in inspector.get_indexes(table)}
            for key in inspector.get_foreign_keys(table):
                assert tuple(key["constrained_columns"][:1]) in indexed, (table, key)
    finally:
        engine.dispose()


def test_the_models_match_the_migrations(empty_database_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from hindsight.storage.models import Base
    from hindsight.storage.search_index import TABLES

    def modelled(name: str | None, type_: str, _parent: object) -> bool:
        # The search index (and FTS5's own tables) is derived data kept outside the models.
        return not (type_ == "table" and name is not None and name.startswith(TABLES))

    engine = make_engine(empty_database_url)
    try:
        upgrade_database(engine)
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"include_name": modelled})
            differences = compare_metadata(context, Base.metadata)
        assert differences == []
    finally:
        engine.dispose()


def test_item_ids_survive_a_downgrade_and_upgrade_of_the_demo_and_1000_incidents(
    empty_database_url: str,
) -> None:
    """Migration 0006 derives ids from content with the domain's rule, so going down to 0005
    (ids dropped, lessons back to text) and up again gives every item the id it had."""
    import sys
    from pathlib import Path

    from hindsight.services.database import open_database
    from hindsight.services.demo import load_demo
    from hindsight.services.incidents import get_postmortem

    sys.path.insert(0, str(Path(__file__).parents[2] / "bench" / "web"))
    from seed import seed  # type: ignore[import-not-found]

    seed(empty_database_url, 1000)
    database = open_database(empty_database_url)
    keys = ("2018-01-18-reddit-hugs-mybinder", "2020-01-01-incident-3", "2020-01-26-incident-999")
    try:
        with database.transaction() as session:
            load_demo(session, author="demo")
        with database.reading() as session:
            before = {key: get_postmortem(session, key=key).postmortem for key in keys}
        downgrade_database(database.engine, "0005")
        assert "item_id" not in {
            c["name"] for c in inspect(database.engine).get_columns("participants")
        }
        upgrade_database(database.engine)
        with database.reading() as session:
            after = {key: get_postmortem(session, key=key).postmortem for key in keys}
        assert after == before
        assert all(event.id for pm in after.values() for event in pm.timeline)
    finally:
        database.dispose()


def test_0008_adds_sessions_and_revokes_the_tokens_of_already_disabled_accounts(
    empty_database_url: str,
) -> None:
    """Issue 10, finding 20: a disabled account's tokens came back when it was re-enabled."""
    from sqlalchemy import text

    engine = make_engine(empty_database_url)
    try:
        upgrade_database(engine, "0005")
        with engine.begin() as connection:
            for n, disabled in [(1, True), (2, False)]:
                connection.execute(
                    text(
                        "INSERT INTO users (id, username, display_name, password_hash, role, "
                        "disabled, timezone, created_at) VALUES (:n, :name, '', 'x', 'editor', "
                        ":disabled, 'UTC', CURRENT_TIMESTAMP)"
                    ),
                    {"n": n, "name": f"u{n}", "disabled": disabled},
                )
                connection.execute(
                    text(
                        "INSERT INTO api_tokens (user_id, name, token_hash, prefix, created_at, "
                        "revoked) VALUES (:n, 'ci', :hash, 'hs_', CURRENT_TIMESTAMP, :no)"
                    ),
                    {"n": n, "hash": f"{n:064}", "no": False},
                )
        upgrade_database(engine, "0008")
        assert "user_sessions" in inspect(engine).get_table_names()
        with engine.connect() as connection:
            revoked = dict(
                connection.execute(text("SELECT user_id, revoked FROM api_tokens")).all()
            )
        assert {k: bool(v) for k, v in revoked.items()} == {1: True, 2: False}
        downgrade_database(engine, "0005")
        assert "user_sessions" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()
