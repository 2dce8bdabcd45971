"""PostgreSQL's words split where SQLite's are (migration 0026).

PostgreSQL's default parser keeps a host, a URL, a path, an e-mail address, a version and a
decimal as one lexeme ('api.example.com', 'db-primary.internal', '10.0.0.5', '/var/log/app',
'v1.2.3'), while the query is read as words (`api`, `example`, `com`) and SQLite's FTS5
tokenizer splits the text the same way: searching for a host found it on SQLite and nothing
on PostgreSQL. The text is now given to `to_tsvector` (and to `ts_headline`) with a
separator after each character that joins such a token, so both engines index its words, at
adjacent positions (a quoted host is a phrase of them). The stored text is unchanged."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

# What joins the parser's host, URL, path, e-mail, version and decimal tokens.
JOINERS = "./:@\\"
# Inserted after each joiner for ts_headline, and taken out of the snippet again: a control
# character, a separator to the parser in every locale, never in the stored text's display.
HEADLINE_SEPARATOR = "\x1f"


def split_sql(expression: str, separator_sql: str = "' '") -> str:
    """`expression` (SQL text) with `separator_sql` after each of JOINERS (nested replace:
    immutable, so fit for a generated column)."""
    for joiner in JOINERS:
        literal = joiner.replace("'", "''")
        expression = f"replace({expression}, '{literal}', '{literal}' || {separator_sql})"
    return expression


def rebuild_vectors(connection: Connection, vectors: dict[str, str]) -> None:
    """Migration 0026, PostgreSQL: `document` and `head` again as generated columns of the
    given expressions (column → SQL), with their GIN indexes and the pairs' (dropped with the
    columns). Every row is rewritten."""
    from hindsight.storage.search.pairs import create_pairs_index, drop_pairs_index

    if connection.dialect.name != "postgresql":
        return
    drop_pairs_index(connection)
    for column in vectors:
        connection.execute(sa.text(f"ALTER TABLE search_documents DROP COLUMN {column}"))
    added = ", ".join(
        f"ADD COLUMN {column} tsvector GENERATED ALWAYS AS ({sql}) STORED"
        for column, sql in vectors.items()
    )
    connection.execute(sa.text(f"ALTER TABLE search_documents {added}"))
    for column in vectors:
        connection.execute(
            sa.text(
                f"CREATE INDEX ix_search_documents_{column} ON search_documents "
                f"USING GIN ({column})"
            )
        )
    create_pairs_index(connection)
