"""What every command shares: settings, the database (opened on first use) and the console."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import typer
from rich.console import Console
from rich.text import Text

from hindsight.config import Settings
from hindsight.services.database import Database, Session, open_database


class PipeFriendlyConsole(Console):
    """A console that never hard-wraps lines of text written to a file or a pipe (a script or
    `grep` wants one line per message); on a terminal it wraps at the terminal's width.

    Tables and panels are still laid out to the console's width ($COLUMNS, else the terminal's,
    else 80): without wrapping, their cells would spill over their borders.
    """

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        # Rich reads $COLUMNS once, when the console is made (at import); read it, or the
        # terminal's size, each time instead, so a width set later (a test, a resize) counts.
        self._width = options.get("width")

    def print(self, *objects: Any, soft_wrap: bool | None = None, **options: Any) -> None:
        """Print as Rich does, but leave lines of text whole when the output is not a terminal."""
        if soft_wrap is None and not self.is_terminal:
            soft_wrap = all(isinstance(item, str | Text) for item in objects)
        super().print(*objects, soft_wrap=soft_wrap, **options)


console = PipeFriendlyConsole(highlight=False)
# Errors are one line each even on a terminal (which then wraps them itself, without newlines).
errors = PipeFriendlyConsole(stderr=True, highlight=False, soft_wrap=True)


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
