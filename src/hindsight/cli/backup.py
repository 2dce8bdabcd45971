"""`backup` and `restore`: every table to a portable archive and back, on either database."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.text import Text

from hindsight.cli.context import console, state
from hindsight.services.backup import BackupSummary, restore_backup, write_backup
from hindsight.services.database import open_database


def _facts(summary: BackupSummary) -> dict[str, object]:
    return {
        "path": str(summary.path),
        "schema_revision": summary.revision,
        "created_at": summary.created_at.isoformat(),
        "source_backend": summary.source_backend,
        "total_rows": summary.total_rows,
        "rows": summary.rows,
    }


def backup(
    ctx: typer.Context,
    path: Path = typer.Argument(..., help="Archive to write, e.g. hindsight-2024-03-05.zip."),
    force: bool = typer.Option(False, "--force", help="Replace PATH if it exists."),
    as_json: bool = typer.Option(False, "--json", help="Print what was written as JSON."),
) -> None:
    """Write every table to a portable archive from one snapshot (writers keep running)."""
    # Not migrated first: a database at an older schema is refused, not upgraded by a backup.
    database = open_database(state(ctx).settings.resolved_database_url(), migrate=False)
    try:
        summary = write_backup(database, path, overwrite=force)
    finally:
        database.dispose()
    if as_json:
        typer.echo(json.dumps(_facts(summary), indent=2))
        return
    console.print(
        Text(
            f"wrote {path}: {summary.total_rows} rows in {len(summary.rows)} tables "
            f"(schema {summary.revision}, {summary.source_backend})"
        )
    )


def restore(
    ctx: typer.Context,
    path: Path = typer.Argument(..., help="Archive written by `hindsight backup`."),
    force: bool = typer.Option(
        False, "--force", help="Replace everything in a database that already holds data."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print what was restored as JSON."),
) -> None:
    """Restore an archive into this database, all or nothing (into an empty one unless --force)."""
    summary = restore_backup(state(ctx).open(), path, force=force)
    if as_json:
        typer.echo(json.dumps(_facts(summary), indent=2))
        return
    console.print(
        Text(
            f"restored {summary.total_rows} rows in {len(summary.rows)} tables from {path} "
            f"(written {summary.created_at:%Y-%m-%d %H:%M:%S} UTC from {summary.source_backend})"
        )
    )


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command()(backup)
    app.command()(restore)
