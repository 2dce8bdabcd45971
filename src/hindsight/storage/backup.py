"""Every table, row by row: read in one snapshot, written back in one transaction.

Driven by `Base.metadata`, so a table or column added to the models is backed up and restored
with no change here; a column of a type this module cannot encode losslessly fails loudly.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import Any

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    Date,
    Engine,
    Float,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Table,
    func,
    select,
    text,
)

from hindsight.storage import insight_rows  # noqa: F401  (its tables on Base.metadata)
from hindsight.storage.coltypes import UTCDateTime
from hindsight.storage.db import MIGRATIONS, READ_ONLY, make_engine, upgrade_database
from hindsight.storage.models import Base

# Checked in this order: Boolean before Integer, Date is not a DateTime, Text is a String.
_KINDS: tuple[tuple[type[Any], str], ...] = (
    (UTCDateTime, "datetime"),
    (Date, "date"),
    (JSON, "json"),
    (Boolean, "bool"),
    (Integer, "int"),
    (Float, "float"),
    (Numeric, "float"),
    (String, "text"),
    (LargeBinary, "bytes"),  # queued jobs, rendered reports: base64 in the archive
)


@dataclass(frozen=True)
class ColumnSpec:
    """A column as the archive sees it: its name, how its values are written, may it be null."""

    name: str
    kind: str
    nullable: bool


@dataclass(frozen=True)
class TableSpec:
    """A table and its columns, in the models' order."""

    name: str
    columns: tuple[ColumnSpec, ...]


def _kind(table: Table, column: Column[Any]) -> str:
    for type_, kind in _KINDS:
        if isinstance(column.type, type_):
            return kind
    raise TypeError(
        f"backup cannot store {table.name}.{column.name} (type {column.type!r}) losslessly; "
        "teach hindsight.storage.backup its kind"
    )


def _tables() -> list[Table]:
    return list(Base.metadata.sorted_tables)


def table_specs() -> list[TableSpec]:
    """Every table of the schema, parents before children (the order rows are restored in)."""
    return [
        TableSpec(
            table.name,
            tuple(ColumnSpec(c.name, _kind(table, c), bool(c.nullable)) for c in table.columns),
        )
        for table in _tables()
    ]


def _table(name: str) -> Table:
    return Base.metadata.tables[name]


@contextmanager
def snapshot(engine: Engine) -> Iterator[Connection]:
    """A connection whose one read-only transaction sees the database at a single moment while
    writers carry on: on SQLite a read transaction in WAL mode (it never takes the write lock),
    on PostgreSQL `REPEATABLE READ READ ONLY`."""
    if engine.dialect.name == "sqlite":
        options: dict[str, Any] = {READ_ONLY: True}
    else:
        options = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
    with engine.connect().execution_options(**options) as connection, connection.begin():
        yield connection


def current_revision(connection: Connection) -> str | None:
    """The Alembic revision of the database, read on this connection (inside its snapshot)."""
    return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    """The newest schema revision this code knows."""
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    assert head is not None
    return head


def read_rows(connection: Connection, name: str) -> Iterator[dict[str, Any]]:
    """The rows of table `name` in primary-key order, streamed (memory does not grow)."""
    table = _table(name)
    query = select(table).order_by(*table.primary_key.columns)
    result = connection.execution_options(yield_per=500).execute(query)
    for row in result.mappings():
        yield dict(row)


@contextmanager
def restoring(engine: Engine) -> Iterator[Connection]:
    """One write transaction for a restore, committed only if the block ends without error.

    SQLite's `BEGIN IMMEDIATE` already holds writers off; on PostgreSQL every table is locked
    against writes (readers still see the old rows) so no writer interleaves with the restore.
    """
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            names = ", ".join(
                connection.dialect.identifier_preparer.format_table(t) for t in _tables()
            )
            connection.execute(text(f"LOCK TABLE {names} IN EXCLUSIVE MODE"))
        yield connection


@cache
def _seed_rows() -> dict[str, list[tuple[Any, ...]]]:
    """The rows the migrations themselves put into a new database (the default taxonomy),
    taken from a throwaway in-memory database so that a later seeding migration is seen too."""
    engine = make_engine("sqlite://")
    try:
        upgrade_database(engine)
        with engine.connect() as connection:
            return {t.name: _all_rows(connection, t) for t in _tables()}
    finally:
        engine.dispose()


def _all_rows(connection: Connection, table: Table) -> list[tuple[Any, ...]]:
    query = select(table).order_by(*table.primary_key.columns)
    return [tuple(row) for row in connection.execute(query)]


def holding_data(connection: Connection) -> str | None:
    """The first table holding rows other than those a new database starts with, or None."""
    seeds = _seed_rows()
    for table in _tables():
        count = connection.scalar(select(func.count()).select_from(table)) or 0
        seeded = seeds.get(table.name, [])
        if count > len(seeded) or (count and _all_rows(connection, table) != seeded):
            return table.name
    return None


def delete_everything(connection: Connection) -> None:
    """Delete every row of every table, children first."""
    for table in reversed(_tables()):
        connection.execute(table.delete())


def insert_rows(connection: Connection, name: str, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert rows (with their ids) into table `name`."""
    if rows:
        connection.execute(_table(name).insert(), list(rows))


def reset_sequences(connection: Connection) -> None:
    """After rows were inserted with explicit ids, make PostgreSQL's sequences continue after
    the largest id (SQLite takes the next rowid from the table itself)."""
    if connection.dialect.name != "postgresql":
        return
    preparer = connection.dialect.identifier_preparer
    for table in _tables():
        column = table.autoincrement_column
        if column is None:
            continue
        quoted_table, quoted_column = preparer.format_table(table), preparer.quote(column.name)
        connection.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence(:table, :column), "
                f"COALESCE(MAX({quoted_column}), 1), MAX({quoted_column}) IS NOT NULL) "
                f"FROM {quoted_table}"
            ),
            {"table": quoted_table, "column": column.name},
        )
