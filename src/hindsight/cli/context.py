"""What every command shares: settings, the database (opened on first use) and the console."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import typer
from rich.console import Console

from hindsight.config import Settings
from hindsight.services.database import Database, Session, open_database

console = Console(highlight=False)
errors = Console(stderr=True, highlight=False)


@dataclass
class State:
    """Per-invocation state, kept on Typer's context."""

    settings: Settings
    database: Database | None = field(default=None)

    def open(self) -> Database:
        """The database, migrated to the current schema."""
        if self.database is None:
            self.database = open_database(self.settings.resolved_database_url())
        return self.database

    @property
    def author(self) -> str:
        """Who changes are recorded as: --author, HINDSIGHT_AUTHOR, or the login name."""
        return self.settings.author or getpass.getuser()


def state(ctx: typer.Context) -> State:
    """The shared state of this invocation."""
    value = ctx.find_root().obj
    assert isinstance(value, State)
    return value


@contextmanager
def transaction(ctx: typer.Context) -> Iterator[Session]:
    """One transaction for the command: committed if it succeeds, rolled back if not."""
    with state(ctx).open().transaction() as session:
        yield session
