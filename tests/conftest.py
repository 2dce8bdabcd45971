"""Database fixtures: every database test runs on SQLite and on the real PostgreSQL.

PostgreSQL is reached at HINDSIGHT_TEST_POSTGRES_URL (default: the local server, database
`test`); each test session creates its own databases there and drops them afterwards.
A PostgreSQL that cannot be reached fails the run: it is never skipped.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from hindsight.services import passwords
from hindsight.services.database import Database, open_database
from hindsight.services.similar_index import clear_indexes

ADMIN_URL = os.environ.get(
    "HINDSIGHT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
BACKENDS = ("sqlite", "postgresql")
# Argon2id at its production cost (64 MiB, three passes) is about a second per sign-in on this
# shared two-core machine, and the web fixtures create and sign in several accounts per test.
# The suite hashes with the same algorithm at the lowest cost; the servers the browser and
# resilience tests start run as separate processes with the real parameters.
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing() -> Iterator[None]:
    saved = (passwords._HASHER, passwords._DUMMY_HASH)
    passwords._HASHER = CHEAP_HASHER
    passwords._DUMMY_HASH = CHEAP_HASHER.hash("no account has this password")
    yield
    passwords._HASHER, passwords._DUMMY_HASH = saved


class _Databases:
    """Makes empty databases of either kind and drops the PostgreSQL ones at the end."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.created: list[str] = []
        self.admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
        self.templates: dict[str, str] = {}

    def new_url(self, backend: str, *, template: str | None = None) -> str:
        """An empty database of `backend`, or on PostgreSQL a copy of the `template` one."""
        name = f"hindsight_test_{uuid.uuid4().hex[:12]}"
        if backend == "sqlite":
            return f"sqlite:///{self.folder / name}.db"
        copying = f' TEMPLATE "{template}"' if template else ""
        try:
            with self.admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"{copying}'))
        except Exception as error:  # pragma: no cover - environment problem, reported loudly
            pytest.fail(f"PostgreSQL at {ADMIN_URL} is needed for the database tests: {error}")
        self.created.append(name)
        return self.admin.url.set(database=name).render_as_string(hide_password=False)

    def migrated_url(self, backend: str) -> str:
        """A new database of `backend` at the newest schema: a copy of one migrated once per
        test session (migrating takes about half a second a database; a copy a few ms)."""
        template = self.templates.get(backend)
        if template is None:
            template = self.new_url(backend)
            open_database(template).dispose()
            self.templates[backend] = template
        if backend == "sqlite":
            url = self.new_url(backend)
            shutil.copyfile(template.removeprefix("sqlite:///"), url.removeprefix("sqlite:///"))
            return url
        return self.new_url(backend, template=template.rsplit("/", 1)[1])

    def drop_all(self) -> None:
        with self.admin.connect() as connection:
            for name in self.created:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Databases]:
    made = _Databases(tmp_path_factory.mktemp("databases"))
    yield made
    made.drop_all()


@pytest.fixture(autouse=True)
def _fresh_similarity_index() -> Iterator[None]:
    """No test sees another's in-process similarity index (services/similar_index.py)."""
    clear_indexes()
    yield
    clear_indexes()


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


@pytest.fixture(scope="session")
def database(databases: _Databases, backend: str) -> Iterator[Database]:
    """A migrated database shared by the session's tests (each rolls its work back)."""
    db = open_database(databases.new_url(backend))
    yield db
    db.dispose()


@pytest.fixture
def session(database: Database) -> Iterator[Session]:
    """A session inside a transaction that is rolled back after the test."""
    connection = database.engine.connect()
    transaction = connection.begin()
    db_session = Session(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield db_session
    finally:
        db_session.close()
        transaction.rollback()
        connection.close()


@pytest.fixture
def empty_database_url(databases: _Databases, backend: str) -> str:
    """The URL of a new, empty (unmigrated) database of the current backend."""
    return databases.new_url(backend)


@pytest.fixture
def fresh_database(databases: _Databases, backend: str) -> Iterator[Database]:
    """A new migrated database for tests that must commit (opening it checks it is at the
    newest revision, as every open does)."""
    db = open_database(databases.migrated_url(backend))
    yield db
    db.dispose()


@pytest.fixture
def make_url(databases: _Databases) -> Callable[[str], str]:
    """Make an empty database of a named backend (for cross-database tests)."""
    return databases.new_url
