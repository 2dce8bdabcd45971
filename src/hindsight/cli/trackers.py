"""`export-action`: an action item becomes a GitHub or Jira issue (docs/trackers.md)."""

from __future__ import annotations

import json

import typer

from hindsight.cli.context import console, state, transaction
from hindsight.services.action_items import ItemRef
from hindsight.services.trackers import export_action_items


def export_action(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="The incident's key."),
    item_id: str = typer.Argument(..., help="The action item's id, e.g. ai-3f9a2c."),
    tracker: str = typer.Option(..., "--tracker", help="github or jira."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Create a tracker issue for one action item and store its link on the item."""
    with transaction(ctx) as session:
        (done,) = export_action_items(
            session,
            settings=state(ctx).settings,
            items=[ItemRef(key, item_id)],
            tracker=tracker,
            actor=None,
            author=state(ctx).author,
        )
    if as_json:
        payload = {"key": done.key, "item_id": done.item_id, "tracker_url": done.tracker_url}
        typer.echo(json.dumps(payload))
        return
    console.print(f"{done.key} {done.item_id}: {done.tracker_url}")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("export-action")(export_action)
