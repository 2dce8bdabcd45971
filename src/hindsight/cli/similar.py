"""`similar`, `similar-reindex` and `recurrence`: earlier incidents like this one, and
recurrence links."""

from __future__ import annotations

import json

import typer
from rich.text import Text

from hindsight.cli.context import console, state, transaction
from hindsight.services.incidents import utc_now
from hindsight.services.profiles import refresh_profiles
from hindsight.services.recurrence import (
    dismiss_recurrence,
    link_recurrence,
    unlink_recurrence,
)
from hindsight.services.similar import find_similar, similar_to_dict


def similar(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="Incident key."),
    limit: int = typer.Option(5, min=1, max=50, help="How many to show."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The earlier incidents most like KEY, with why, and a possible recurrence."""
    with transaction(ctx) as session:
        result = find_similar(session, key=key, limit=limit)
    if as_json:
        console.print(json.dumps(similar_to_dict(result), indent=2), soft_wrap=True)
        return
    if result.note:
        console.print(Text(result.note, style="yellow"))
    if not result.items:
        console.print(Text("No earlier incident is like this one."))
    for item in result.items:
        mark = " (linked recurrence)" if item.linked else ""
        console.print(
            Text(f"{item.score:.2f}  {item.key}  {item.title} ({item.created_at:%Y-%m-%d}){mark}")
        )
        console.print(Text(f"      {item.why.sentence()}", style="dim"))
    if result.suggestion:
        s = result.suggestion
        console.print(
            Text(
                f"Possible recurrence of {s.title} ({s.happened_at:%Y-%m-%d}): {s.actions_summary}"
            )
        )
        console.print(Text(f"Link it: hindsight recurrence {key} {s.key}", style="dim"))
    for link in result.links:
        word = "recurs" if link.earlier else "recurred as"
        console.print(Text(f"Linked: {word} {link.key} {link.title}"))


def similar_reindex(ctx: typer.Context) -> None:
    """Recompute the similarity profiles that are missing or stale (after upgrading, or once
    the embedding model is installed)."""
    with transaction(ctx) as session:
        refreshed, total = refresh_profiles(session, now=utc_now())
    console.print(Text(f"Refreshed {refreshed} of {total} incident profiles"))


def recurrence(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="Incident key."),
    other: str = typer.Argument(..., help="The other incident's key."),
    dismiss: bool = typer.Option(False, "--dismiss", help="KEY is not a recurrence of OTHER."),
    unlink: bool = typer.Option(False, "--unlink", help="Remove the link."),
) -> None:
    """Link KEY and OTHER as the same incident happening again (or --dismiss, --unlink)."""
    author = state(ctx).author
    with transaction(ctx) as session:
        if dismiss:
            dismiss_recurrence(session, key=key, other_key=other, author=author)
        elif unlink:
            unlink_recurrence(session, key=key, other_key=other, author=author)
        else:
            link_recurrence(session, key=key, other_key=other, author=author)
    verb = "Dismissed" if dismiss else "Unlinked" if unlink else "Linked"
    console.print(Text(f"{verb}: {key} and {other}"))


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command()(similar)
    app.command("similar-reindex")(similar_reindex)
    app.command()(recurrence)
