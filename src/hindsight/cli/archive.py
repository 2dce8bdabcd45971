"""`archive`, `unarchive` and `delete`: take an incident out of the lists, back in, or away."""

from __future__ import annotations

import typer
from rich.text import Text

from hindsight.cli.context import console, state, transaction
from hindsight.errors import InvalidInputError
from hindsight.services.archive import archive_incident, delete_incident, unarchive_incident


def archive(ctx: typer.Context, key: str = typer.Argument(..., help="Incident key.")) -> None:
    """Archive an incident: out of `list` and search, read-only, everything kept."""
    with transaction(ctx) as session:
        stored = archive_incident(session, key=key, author=state(ctx).author)
    console.print(
        Text(f"Archived {key} (version {stored.version}); `hindsight unarchive` undoes it")
    )


def unarchive(ctx: typer.Context, key: str = typer.Argument(..., help="Incident key.")) -> None:
    """Bring an archived incident back into `list` and search."""
    with transaction(ctx) as session:
        stored = unarchive_incident(session, key=key, author=state(ctx).author)
    console.print(Text(f"Unarchived {key} (version {stored.version})"))


def delete(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="Incident key."),
    confirm: str = typer.Option(
        ..., "--confirm", help="The incident key again, to confirm.", show_default=False
    ),
) -> None:
    """Delete an incident and everything in it (history, comments, evidence) for good."""
    if confirm != key:
        raise InvalidInputError(f"--confirm must repeat the key exactly: {key}")
    with transaction(ctx) as session:
        delete_incident(session, key=key)
    console.print(Text(f"Deleted {key}"))


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command()(archive)
    app.command()(unarchive)
    app.command()(delete)
