"""The `hindsight` command: global options, error reporting, and the command groups."""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperGroup

from hindsight.cli import (
    admin,
    archive,
    backup,
    documents,
    editing,
    imports,
    incidents,
    lint,
    users,
)
from hindsight.cli.context import State, errors
from hindsight.config import Settings
from hindsight.errors import DocumentError, HindsightError


class _ReportingGroup(TyperGroup):
    """Turns Hindsight's errors into 'error: …' lines on stderr and exit code 1, no traceback."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except DocumentError as error:
            for problem in error.problems:
                errors.print(f"error: {problem}")
            raise typer.Exit(1) from None
        except HindsightError as error:
            errors.print(f"error: {error}")
            raise typer.Exit(1) from None


app = typer.Typer(
    cls=_ReportingGroup,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Hindsight: blameless incident postmortems, from evidence to action items.",
)


@app.callback()
def main(
    ctx: typer.Context,
    database_url: str | None = typer.Option(
        None,
        "--database-url",
        help="Database URL (default: SQLite in the data folder; env HINDSIGHT_DATABASE_URL).",
        show_default=False,
    ),
    author: str | None = typer.Option(
        None,
        "--author",
        help="Name recorded in the history (env HINDSIGHT_AUTHOR; default: your login name).",
        show_default=False,
    ),
) -> None:
    """Hindsight: blameless incident postmortems, from evidence to action items."""
    settings = Settings()
    overrides = {"database_url": database_url, "author": author}
    settings = settings.model_copy(update={k: v for k, v in overrides.items() if v is not None})
    ctx.obj = State(settings=settings)


for module in (incidents, archive, editing, documents, imports, lint, admin, users, backup):
    module.register(app)


def run() -> None:
    """Console entry point."""
    app()
