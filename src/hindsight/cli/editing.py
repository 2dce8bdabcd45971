"""Fill every part of a postmortem from a script: `set`, `add`, `remove`, and typed adders for
timeline events, participants, contributing factors, whys and action items."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import typer

from hindsight.cli.context import console, state, transaction
from hindsight.cli.incidents import read_text_argument
from hindsight.domain.editing import append_item, remove_item, resolve_path
from hindsight.domain.editing import set_fields as edit_fields
from hindsight.domain.incidents import Postmortem
from hindsight.domain.timeline import localize
from hindsight.errors import BadUsageError
from hindsight.services.history import restore_item, revert_revision
from hindsight.services.incidents import update_postmortem

IF_VERSION = typer.Option(
    None,
    "--if-version",
    help="Refuse the change unless the incident is still at this version.",
)


def _apply(
    ctx: typer.Context,
    key: str,
    change: Callable[[Postmortem], Postmortem],
    expected_version: int | None,
) -> None:
    with transaction(ctx) as session:
        stored = update_postmortem(
            session,
            key=key,
            change=change,
            author=state(ctx).author,
            expected_version=expected_version,
        )
    console.print(f"{key} is now at version {stored.version}")


def set_fields(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="Incident key."),
    assignments: list[str] = typer.Argument(
        ...,
        help="FIELD=VALUE pairs, e.g. severity=SEV1 impact.users_affected=1200 "
        "summary=@summary.md timeline.ev-3f9a2c.key_moment=detected (a list position such as "
        "timeline.3 also works; VALUE @FILE reads a file).",
    ),
    if_version: int | None = IF_VERSION,
) -> None:
    """Set fields by path; all assignments are applied and validated together, or not at all."""
    pairs = []
    for assignment in assignments:
        path, sep, value = assignment.partition("=")
        if not sep:
            raise BadUsageError(f"{assignment!r}: write FIELD=VALUE, e.g. severity=SEV2")
        pairs.append((path.strip(), read_text_argument(value)))

    def change(postmortem: Postmortem) -> Postmortem:
        # Positions resolve to ids first, so the change recorded names the item.
        return edit_fields(postmortem, {resolve_path(postmortem, p): v for p, v in pairs})

    _apply(ctx, key, change, if_version)


def add_items(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="Incident key."),
    field: str = typer.Argument(
        ...,
        help="A list of statements: services, tags, lessons, "
        "analysis.root_causes, response.went_well, response.went_wrong, "
        "response.got_lucky, response.teams.",
    ),
    values: list[str] = typer.Argument(..., help="One or more items to append."),
    if_version: int | None = IF_VERSION,
) -> None:
    """Append items to a list field."""

    def change(postmortem: Postmortem) -> Postmortem:
        for value in values:
            postmortem = append_item(postmortem, field, read_text_argument(value))
        return postmortem

    _apply(ctx, key, change, if_version)


def remove(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="Incident key."),
    path: str = typer.Argument(
        ..., help="A list item by id, e.g. timeline.ev-3f9a2c (or by position: action_items.0)."
    ),
    if_version: int | None = IF_VERSION,
) -> None:
    """Remove one list item (ids are in `hindsight export`; `hindsight restore` undoes it)."""
    _apply(ctx, key, lambda postmortem: remove_item(postmortem, path), if_version)


def restore_removed_item(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="Incident key."),
    version: int = typer.Argument(..., help="The version that removed the item (see history)."),
    item: str = typer.Argument(..., help="The removed item, e.g. action_items.ai-3f9a2c."),
) -> None:
    """Put back an item a revision removed, with its id (a new revision)."""
    with transaction(ctx) as session:
        stored = restore_item(
            session, key=key, version=version, item=item, author=state(ctx).author
        )
    console.print(f"{key} is now at version {stored.version}")


def revert(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="Incident key."),
    version: int = typer.Argument(..., help="The version whose changes to undo."),
) -> None:
    """Undo every change of one revision (a new revision); refused where a later one changed
    the same field."""
    with transaction(ctx) as session:
        stored = revert_revision(session, key=key, version=version, author=state(ctx).author)
    console.print(f"{key} is now at version {stored.version}")


def _appender(field: str, item: dict[str, Any]) -> Callable[[Postmortem], Postmortem]:
    cleaned = {name: value for name, value in item.items() if value is not None}
    return lambda postmortem: append_item(postmortem, field, cleaned)


event_app = typer.Typer(help="Timeline events.", no_args_is_help=True)
participant_app = typer.Typer(help="Participants.", no_args_is_help=True)
factor_app = typer.Typer(help="Contributing factors.", no_args_is_help=True)
why_app = typer.Typer(help="The five-whys chain.", no_args_is_help=True)
action_app = typer.Typer(help="Action items.", no_args_is_help=True)


@event_app.command("add")
def add_event(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="Incident key."),
    at: str = typer.Option(
        ...,
        help="When: ISO 8601, e.g. 2018-01-18T04:19-08:00, or a time "
        "without offset together with --zone.",
    ),
    text: str = typer.Option(..., help="What happened."),
    zone: str | None = typer.Option(None, help="Zone it was written in, e.g. Europe/Berlin."),
    kind: str = typer.Option(
        "note",
        help="note, observation, alert, page, acknowledgement, "
        "escalation, decision, action, deploy, change, communication, "
        "log, resolution.",
    ),
    actor: str = typer.Option("", help="Who or what acted."),
    source: str = typer.Option("manual", help="Where it was recorded (slack, pagerduty…)."),
    key_moment: str | None = typer.Option(
        None, "--key-moment", help="impact_started, detected, acknowledged, mitigated or resolved."
    ),
    if_version: int | None = IF_VERSION,
) -> None:
    """Add a timeline event."""
    try:
        when = localize(dt.datetime.fromisoformat(at), zone)
    except ValueError as error:
        raise BadUsageError(
            f"--at: {at!r} is not a time like 2018-01-18T04:19:00-08:00 ({error})"
        ) from None
    item = {
        "at": when,
        "text": text,
        "zone": zone,
        "kind": kind,
        "actor": actor,
        "source": source,
        "key_moment": key_moment,
    }
    _apply(ctx, key, _appender("timeline", item), if_version)


@participant_app.command("add")
def add_participant(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="Incident key."),
    name: str = typer.Argument(..., help="Person's name."),
    role: str = typer.Option(
        "responder",
        help="incident_commander, communications_lead, "
        "operations_lead, scribe, responder, subject_matter_expert, "
        "postmortem_owner, observer.",
    ),
    team: str = typer.Option("", help="Their team."),
    if_version: int | None = IF_VERSION,
) -> None:
    """Add a participant."""
    item = {"name": name, "role": role, "team": team}
    _apply(ctx, key, _appender("participants", item), if_version)


@factor_app.command("add")
def add_factor(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="Incident key."),
    category: str = typer.Option(..., help="A category from `hindsight taxonomy list`."),
    text: str = typer.Option(..., help="The factor."),
    if_version: int | None = IF_VERSION,
) -> None:
    """Add a contributing factor."""
    item = {"category": category, "description": text}
    _apply(ctx, key, _appender("analysis.contributing_factors", item), if_version)


@why_app.command("add")
def add_why(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="Incident key."),
    why: str = typer.Option(..., "--why", help="The question."),
    because: str = typer.Option(..., "--because", help="The answer."),
    if_version: int | None = IF_VERSION,
) -> None:
    """Add the next step of the five-whys chain."""
    item = {"question": why, "answer": because}
    _apply(ctx, key, _appender("analysis.five_whys", item), if_version)


@action_app.command("add")
def add_action(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="Incident key."),
    title: str = typer.Option(..., help="What will be done, starting with a verb."),
    kind: str = typer.Option("prevent", help="prevent, detect, mitigate or process."),
    owner: str = typer.Option("", help="Who owns it."),
    priority: str = typer.Option("P3", help="P1 (most urgent) to P4."),
    due: str | None = typer.Option(None, help="Due date, YYYY-MM-DD."),
    status: str = typer.Option("open", help="open, in_progress, done or wont_do."),
    reason: str = typer.Option("", help="Why it won't be done (required for wont_do)."),
    tracker: str = typer.Option("", help="Link to the ticket."),
    if_version: int | None = IF_VERSION,
) -> None:
    """Add an action item. Change one later with `hindsight set KEY action_items.N.status=done`."""
    item = {
        "title": title,
        "kind": kind,
        "owner": owner,
        "priority": priority,
        "due": due,
        "status": status,
        "reason": reason,
        "tracker_url": tracker,
    }
    _apply(ctx, key, _appender("action_items", item), if_version)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("set")(set_fields)
    app.command("add")(add_items)
    app.command()(remove)
    app.command("restore-item")(restore_removed_item)
    app.command()(revert)
    app.add_typer(event_app, name="event")
    app.add_typer(participant_app, name="participant")
    app.add_typer(factor_app, name="factor")
    app.add_typer(why_app, name="why")
    app.add_typer(action_app, name="action")
