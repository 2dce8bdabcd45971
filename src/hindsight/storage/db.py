"""Engines and sessions for SQLite (WAL, foreign keys, BEGIN IMMEDIATE) and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

from hindsight.errors import InvalidInputError

MIGRATIONS = Path(__file__).parent / "migrations"


def normalise_url(url: str | URL) -> URL:
    """Accept 'postgresql://' and 'postgres://' and use the psycopg 3 driver for them."""
    parsed = make_url(url) if isinstance(url, str) else url
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below start transactions, not the driver.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A writer takes the lock up front, so two writers queue instead of one failing
        # mid-transaction; a reader (READ_ONLY below) starts a plain transaction and, in WAL
        # mode, never waits for writers.
        if connection.get_execution_options().get(READ_ONLY, False):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def _holds_nul(parameters: Any) -> bool:
    if isinstance(parameters, str):
        return "\x00" in parameters
    if isinstance(parameters, dict):
        return any(_holds_nul(value) for value in parameters.values())
    if isinstance(parameters, list | tuple):
        return any(_holds_nul(value) for value in parameters)
    return False


def refuse_nul(parameters: Any) -> None:
    """InvalidInputError if a statement's parameters hold the NUL character."""
    if _holds_nul(parameters):
        raise InvalidInputError(
            "text may not contain the NUL character (\\x00); remove it and try again"
        )


def _refuse_nul_characters(engine: Engine) -> None:
    """PostgreSQL cannot store NUL in text and SQLite would; refuse it the same way on both,
    as bad input, before it reaches the driver (a statement run on the driver's own cursor
    calls `refuse_nul` itself)."""

    @event.listens_for(engine, "before_cursor_execute")
    def _check(_conn: Any, _cursor: Any, _sql: str, parameters: Any, *_: Any) -> None:
        refuse_nul(parameters)


# Connections one process may hold (the web bounds its requests by it: web/slots.py). Two
# web workers and a job worker stay well inside PostgreSQL's default of 100 connections.
POOL_SIZE = 10
POOL_OVERFLOW = 20


def pool_capacity(engine: Engine) -> int:
    """How many connections `engine`'s pool hands out at most at once."""
    pool = engine.pool
    if isinstance(pool, QueuePool):
        return pool.size() + pool._max_overflow
    return POOL_SIZE + POOL_OVERFLOW  # pools that never make a caller wait


def make_engine(
    url: str | URL, *, pool_size: int = POOL_SIZE, max_overflow: int = POOL_OVERFLOW
) -> Engine:
    """An engine for `url`; SQLite files get their folder created."""
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        pool: dict[str, Any] = {}
        if parsed.database and parsed.database != ":memory:":
            pool = {"pool_size": pool_size, "max_overflow": max_overflow}
        connect = {"check_same_thread": False, "timeout": 30}
        engine = create_engine(parsed, connect_args=connect, **pool)
        _configure_sqlite(engine)
    else:
        engine = create_engine(
            parsed, pool_pre_ping=True, pool_size=pool_size, max_overflow=max_overflow
        )
    _refuse_nul_characters(engine)
    return engine


READ_ONLY = "hindsight_read_only"


def make_sessionmaker(engine: Engine, *, read_only: bool = False) -> sessionmaker[Session]:
    """Sessions that keep loaded values readable after commit; `read_only` ones never take
    SQLite's write lock (a write in them may fail if another writer got there first)."""
    bind = engine.execution_options(**{READ_ONLY: True}) if read_only else engine
    return sessionmaker(bind, expire_on_commit=False)


def reads_only(session: Session) -> bool:
    """True for a session from a `read_only` sessionmaker (nothing it does writes)."""
    return bool(session.get_bind().get_execution_options().get(READ_ONLY, False))


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade_database(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to `revision`."""
    config = _alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade_database(engine: Engine, revision: str = "base") -> None:
    """Undo migrations down to `revision`."""
    config = _alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def schema_revisions(engine: Engine) -> tuple[str | None, str | None]:
    """(the database's current revision, the newest revision this code knows)."""
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    return current, head
