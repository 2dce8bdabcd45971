"""Migration 0020's index change (kept apart from search_index.py, which every write uses):
the filter columns (`restricted`, `archived`, `tokens`) and PostgreSQL's `head` added to an
index of migration 0010's shape and filled, and taken away again on the way down."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hindsight.storage.search_index import (
    FTS_COLUMNS,
    PART_NAMES,
    _add_head,
    _create_fts,
    _drop_fts,
    documents,
    rebuild_search_index,
)

_ADDED = ("restricted", "archived", "tokens")


def add_search_filters(connection: Connection) -> bool:
    """Migration 0020: give an index of 0010's shape the filter columns (and PostgreSQL's
    `head`), and fill them; False if it has them already (0010 now makes the index as it
    is today)."""
    have = {column["name"] for column in sa.inspect(connection).get_columns("search_documents")}
    if "tokens" in have:
        return False
    if connection.dialect.name == "sqlite":
        _drop_fts(connection)
    for column in documents.c:
        if column.name in _ADDED:
            default = "''" if column.name == "tokens" else "false"
            kind = "TEXT" if column.name == "tokens" else "BOOLEAN"
            connection.execute(
                sa.text(
                    f"ALTER TABLE search_documents ADD COLUMN {column.name} {kind} "
                    f"NOT NULL DEFAULT {default}"
                )
            )
    if connection.dialect.name == "postgresql":
        _fill_filters(connection)
        _add_head(connection)  # rewrites every row, under the new TOAST target
        return True
    # FTS5 after the documents: its triggers would tell an empty index to delete rows.
    rebuild_search_index(connection)
    _create_fts(connection, FTS_COLUMNS)
    connection.execute(sa.text("INSERT INTO search_fts(search_fts) VALUES ('rebuild')"))
    return True


def _fill_filters(connection: Connection) -> None:
    """PostgreSQL: the flags and the recurring facet, in SQL (its search reads no tokens, and
    refilling 100,000 documents would parse all their text again)."""
    connection.execute(
        sa.text(
            "UPDATE search_documents AS d SET restricted = (i.visibility = 'restricted'), "
            "archived = (i.archived_at IS NOT NULL) FROM incidents AS i WHERE i.id = d.incident_id"
        )
    )
    connection.execute(
        sa.text(
            "INSERT INTO search_facets (incident_id, facet, value) "
            "SELECT DISTINCT l.incident_id, 'recurring', 'yes' FROM incident_links AS l "
            "JOIN search_documents AS d ON d.incident_id = l.incident_id "
            "ON CONFLICT DO NOTHING"
        )
    )


def remove_search_filters(connection: Connection) -> None:
    """Migration 0020's downgrade: back to 0010's shape, the text kept (SQLite's FTS5 table
    is rebuilt from it)."""
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("DROP INDEX IF EXISTS ix_search_documents_head"))
        connection.execute(sa.text("ALTER TABLE search_documents DROP COLUMN IF EXISTS head"))
        connection.execute(sa.text("ALTER TABLE search_documents RESET (toast_tuple_target)"))
    else:
        _drop_fts(connection)
    for name in _ADDED:
        connection.execute(sa.text(f"ALTER TABLE search_documents DROP COLUMN {name}"))
    connection.execute(sa.text("DELETE FROM search_facets WHERE facet = 'recurring'"))
    if connection.dialect.name == "sqlite":
        _create_fts(connection, PART_NAMES)
        connection.execute(sa.text("INSERT INTO search_fts(search_fts) VALUES ('rebuild')"))
