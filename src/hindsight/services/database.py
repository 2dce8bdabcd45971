"""Open the database, own its transactions, and describe it; the seam between interfaces and
storage (web and CLI use this module, never storage itself)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import ArgumentError, InterfaceError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from hindsight.errors import HindsightError
from hindsight.storage import insight_rows  # noqa: F401  (its tables on Base.metadata)
from hindsight.storage.db import (
    make_engine,
    make_sessionmaker,
    normalise_url,
    pool_capacity,
    schema_revisions,
    upgrade_database,
)
from hindsight.storage.models import IncidentRow

__all__ = [
    "OUTAGE_ERRORS",
    "Database",
    "DatabaseInfo",
    "Session",
    "database_is_up",
    "describe_database",
    "open_database",
]

# What the driver raises when the database cannot be reached or stops answering (server
# down, connection dropped, SQLite file locked past the busy timeout). Interfaces answer these
# with "try again" (the web with 503), not with a traceback.
OUTAGE_ERRORS: tuple[type[Exception], ...] = (OperationalError, InterfaceError)
OUTAGE_MESSAGE = "the database is not answering; try again in a moment"


@dataclass
class Database:
    """An engine and its session factory."""

    engine: Engine
    sessions: sessionmaker[Session]
    readers: sessionmaker[Session]

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: committed when the block ends, rolled back if it raises."""
        with self.sessions.begin() as session:
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A transaction for reading only (on SQLite it does not queue behind writers)."""
        with self.readers.begin() as session:
            yield session

    def connection_capacity(self) -> int:
        """How many connections this process may hold at once (the pool's size and overflow)."""
        return pool_capacity(self.engine)

    def is_up(self) -> bool:
        """True if the database answers a trivial query now."""
        try:
            with self.readers.begin() as session:
                session.execute(text("SELECT 1"))
        except OUTAGE_ERRORS:
            return False
        return True

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def database_is_up(database: Database) -> bool:
    """True if the database answers now (for health checks)."""
    return database.is_up()


def open_database(url: str, *, migrate: bool = True) -> Database:
    """Connect to `url`, bringing the schema up to date unless `migrate` is False."""
    try:
        engine = make_engine(url)
        if migrate:
            upgrade_database(engine)
    except (ArgumentError, NoSuchModuleError) as error:
        raise HindsightError(
            f"the database URL {url!r} is not usable ({error}); use sqlite:///PATH or "
            "postgresql://USER@HOST/DB"
        ) from None
    except OperationalError as error:
        shown = normalise_url(url).render_as_string(hide_password=True)
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        raise HindsightError(f"cannot open the database {shown}: {reason}") from None
    return Database(
        engine=engine,
        sessions=make_sessionmaker(engine),
        readers=make_sessionmaker(engine, read_only=True),
    )


@dataclass(frozen=True)
class DatabaseInfo:
    """What `hindsight info` shows about the database."""

    url: str
    backend: str
    revision: str | None
    head: str | None
    incidents: int


def describe_database(database: Database) -> DatabaseInfo:
    """The database's address (password hidden), schema revision and size."""
    current, head = schema_revisions(database.engine)
    with database.reading() as session:
        count = session.scalar(select(func.count()).select_from(IncidentRow)) or 0
    url = normalise_url(database.engine.url)
    return DatabaseInfo(
        url=url.render_as_string(hide_password=True),
        backend=url.get_backend_name(),
        revision=current,
        head=head,
        incidents=count,
    )
