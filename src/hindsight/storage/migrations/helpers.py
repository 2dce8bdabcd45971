"""Steps several migrations share."""

from __future__ import annotations

from alembic import op


def drop_parent_column(table: str, column: str) -> None:
    """Drop a column of a table that other tables reference with ON DELETE CASCADE.

    On SQLite, Alembic's batch mode copies the table and drops the original; with foreign keys
    on, dropping it would delete every child row (found dropping 0005's columns from a
    database holding incidents). SQLite 3.35+ drops a plain column in place instead."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f'ALTER TABLE "{table}" DROP COLUMN "{column}"')
    else:
        op.drop_column(table, column)
