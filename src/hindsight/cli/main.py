"""The `hindsight` command: global options, error reporting, and the command groups."""

from __future__ import annotations

from typing import Any, NoReturn

import typer
from pydantic import ValidationError
from rich.text import Text
from typer.core import TyperGroup
from typer.exceptions import TyperException

from hindsight.cli import (
    actions,
    admin,
    archive,
    archive_import,
    backup,
    candidates,
    documents,
    editing,
    findings,
    imports,
    incidents,
    lint,
    metrics,
    search,
    similar,
    trackers,
    users,
    worker,
)
from hindsight.cli.context import State, errors
from hindsight.config import Settings
from hindsight.errors import BadUsageError, DocumentError, HindsightError

USAGE, REFUSED = 2, 1


def _one_line(text: str) -> str:
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


def _say(message: str) -> None:
    errors.print(Text(f"error: {_one_line(message)}"))


def _asks_for_help(error: TyperException) -> bool:
    # A group run without a command raises this to print its help; Typer itself tells it by name.
    return type(error).__name__ == "NoArgsIsHelpError"


def _report_parsing(error: TyperException) -> NoReturn:
    """Typer's own errors (unknown option or command, bad or missing value; exit code 2) as one
    line that names the help to read."""
    context = getattr(error, "ctx", None)
    hint = f" (see `{context.command_path} --help`)" if context is not None else ""
    _say(error.format_message() + hint)
    raise typer.Exit(getattr(error, "exit_code", USAGE))


def _report(error: Exception) -> int:
    """Print one line per problem; the exit code: 2 for bad usage, 1 for refused input or a
    failure of ours (an unexpected exception is an 'internal error', still one line)."""
    if isinstance(error, DocumentError):
        for problem in error.problems:
            _say(str(problem))
    elif isinstance(error, HindsightError | ValueError):
        _say(str(error) or type(error).__name__)
    else:
        _say(
            f"internal error: {type(error).__name__}: {error} "
            "(run `hindsight --debug …` for the traceback, and please report it)"
        )
    return USAGE if isinstance(error, BadUsageError) else REFUSED


class _ReportingGroup(TyperGroup):
    """Reports every failure as one `error: …` line per problem on stderr, never a traceback
    (unless --debug): exit code 2 for bad usage, 1 for refused input."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        """The global options; a mistake in them is reported like any other usage error."""
        try:
            return super().parse_args(ctx, args)
        except TyperException as error:
            if _asks_for_help(error):
                raise
            _report_parsing(error)

    def invoke(self, ctx: Any) -> Any:
        """Run the command; turn whatever it raises into one line per problem and an exit code."""
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort):
            raise
        except TyperException as error:
            if _asks_for_help(error):
                raise
            _report_parsing(error)
        except Exception as error:
            # A closed pipe (`hindsight list | head`) is left to Typer, which exits quietly.
            if ctx.params.get("debug") or isinstance(error, BrokenPipeError):
                raise
            raise typer.Exit(_report(error)) from None


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
    debug: bool = typer.Option(
        False, "--debug", help="On an unexpected failure, show the Python traceback."
    ),
) -> None:
    """Hindsight: blameless incident postmortems, from evidence to action items."""
    del debug  # read by _ReportingGroup from the context's parameters
    try:
        settings = Settings()
    except ValidationError as error:
        first = error.errors()[0]
        name = ".".join(str(part) for part in first["loc"])
        raise BadUsageError(
            f"setting {name} (HINDSIGHT_{name.upper()}): {first['msg']}, got {first['input']!r}"
        ) from None
    overrides = {"database_url": database_url, "author": author}
    settings = settings.model_copy(update={k: v for k, v in overrides.items() if v is not None})
    ctx.obj = State(settings=settings)


for module in (
    incidents,
    archive,
    editing,
    documents,
    imports,
    lint,
    admin,
    users,
    backup,
    archive_import,
    search,
):
    module.register(app)
for module in (findings, similar, candidates, metrics, worker):
    module.register(app)
for module in (actions, trackers):
    module.register(app)


def run() -> None:
    """Console entry point."""
    app()
