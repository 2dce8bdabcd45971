"""Rich renderings of a postmortem and its history for the terminal."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.markdown import Markdown
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from hindsight.analysis.metrics import compute_response_metrics, format_duration
from hindsight.domain.actions import ActionStatus
from hindsight.domain.codec import postmortem_to_dict
from hindsight.domain.incidents import Postmortem
from hindsight.rendering.history import DiffPart, describe_changes
from hindsight.services.incidents import Revision, StoredPostmortem

SEVERITY_STYLE = {
    "SEV1": "bold red",
    "SEV2": "red",
    "SEV3": "yellow",
    "SEV4": "green",
    "SEV5": "green",
}
STATUS_STYLE = {
    ActionStatus.OPEN: "yellow",
    ActionStatus.IN_PROGRESS: "cyan",
    ActionStatus.DONE: "green",
    ActionStatus.WONT_DO: "dim",
}
EMPTY = Text("Nothing recorded yet.", style="dim italic")


def _table(*columns: str) -> Table:
    table = Table(box=None, header_style="bold", pad_edge=False, expand=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def _bullets(items: Iterable[str]) -> RenderableType:
    lines = [Text("• ") + Text(item) for item in items]
    return Group(*lines) if lines else EMPTY


def _prose(text: str) -> RenderableType:
    return Markdown(text) if text else EMPTY


def _labelled(label: str, body: RenderableType) -> RenderableType:
    return Group(Text(label, style="bold"), body, Text(""))


def _overview(pm: Postmortem) -> RenderableType:
    facts = Text.assemble(
        (pm.severity, SEVERITY_STYLE[pm.severity]),
        "  status ",
        (pm.status, "bold"),
        "  review ",
        (pm.review_status, "bold"),
        "  visibility ",
        (pm.visibility, "bold"),
    )
    parts: list[RenderableType] = [facts]
    if pm.services:
        parts.append(Text("services: ") + Text(", ".join(pm.services)))
    if pm.tags:
        parts.append(Text("tags: ") + Text(", ".join(pm.tags)))
    parts += [Text(""), _prose(pm.summary), Text("")]
    if pm.participants:
        people = _table("Participant", "Role", "Team")
        for person in pm.participants:
            people.add_row(Text(person.name), person.role.replace("_", " "), Text(person.team))
        parts.append(people)
    return Group(*parts)


def _timeline(pm: Postmortem) -> RenderableType:
    if not pm.timeline:
        return EMPTY
    table = _table("Local time", "UTC", "Kind", "Actor", "Event", "Key moment")
    for event in pm.timeline:
        style = "bold magenta" if event.key_moment else ""
        table.add_row(
            Text(f"{event.local_time:%Y-%m-%d %H:%M:%S %Z}".strip()),
            f"{event.at:%H:%M:%S}",
            event.kind,
            Text(event.actor),
            Text(event.text),
            Text(event.key_moment.replace("_", " ") if event.key_moment else "", style),
        )
    return table


def _analysis(pm: Postmortem) -> RenderableType:
    rca = pm.analysis
    factors: RenderableType = EMPTY
    if rca.contributing_factors:
        factors = _table("Category", "Factor")
        for factor in rca.contributing_factors:
            factors.add_row(factor.category, Text(factor.description))
    whys: RenderableType = EMPTY
    if rca.five_whys:
        whys = _table("#", "Why?", "Because")
        for number, why in enumerate(rca.five_whys, 1):
            whys.add_row(str(number), Text(why.question), Text(why.answer))
    return Group(
        _labelled("Trigger", _prose(rca.trigger)),
        _labelled("Root causes", _bullets(rca.root_causes)),
        _labelled("Contributing factors", factors),
        _labelled("Five whys", whys),
    )


def _numbers(values: dict[str, Any], prefix: str = "") -> Iterable[tuple[str, str]]:
    for name, value in values.items():
        if isinstance(value, dict):
            yield from _numbers(value, f"{name}.")
        elif value is not None and name != "narrative":
            yield f"{prefix}{name}".replace("_", " "), str(value)


def _impact(pm: Postmortem) -> RenderableType:
    rows = list(_numbers(postmortem_to_dict(pm)["impact"]))
    numbers: RenderableType = Text(
        "Not quantified yet: add users, requests, downtime or cost with `hindsight set`.",
        style="yellow",
    )
    if rows:
        numbers = _table("Measure", "Value")
        for label, value in rows:
            numbers.add_row(label, value)
    metrics = compute_response_metrics(pm)
    window = "—"
    if metrics.impact_window:
        start, end = metrics.impact_window
        window = f"{start:%Y-%m-%d %H:%M} → {end:%Y-%m-%d %H:%M} UTC"
    return Group(
        Text(f"Impact window: {window}  ({format_duration(metrics.impact_duration)})"),
        Text(""),
        numbers,
        Text(""),
        _prose(pm.impact.narrative),
    )


def _response(pm: Postmortem) -> RenderableType:
    response = pm.response
    metrics = _table("Metric", "Value")
    for label, value in compute_response_metrics(pm).rows():
        metrics.add_row(label, format_duration(value))
    detection = (response.detection_method or "not recorded").replace("_", " ")
    return Group(
        _labelled("Response metrics (from key moments)", metrics),
        _labelled(f"Detection: {detection}", _prose(response.detection_notes)),
        _labelled("What went well", _bullets(response.went_well)),
        _labelled("What went wrong", _bullets(response.went_wrong)),
        _labelled("Where we got lucky", _bullets(response.got_lucky)),
        _labelled("Communications", _prose(response.communications)),
        _labelled("Teams", _bullets(response.teams)),
    )


def _actions(pm: Postmortem) -> RenderableType:
    if not pm.action_items:
        return EMPTY
    table = _table("#", "Action", "Kind", "Owner", "Priority", "Due", "Status")
    for number, item in enumerate(pm.action_items):
        status = Text(item.status.replace("_", " "), STATUS_STYLE[item.status])
        if item.reason:
            status.append(f" ({item.reason})", "dim")
        table.add_row(
            str(number),
            Text(item.title),
            item.kind,
            Text(item.owner or "—"),
            item.priority,
            item.due.isoformat() if item.due else "—",
            status,
        )
    return table


def render_postmortem(console: Console, stored: StoredPostmortem) -> None:
    """Print every part of the postmortem, in the order of the Markdown form."""
    pm = stored.postmortem
    console.print(
        Text(pm.title, style="bold"), Text(f"  {pm.key} · version {stored.version}", style="dim")
    )
    if stored.archived_at is not None:
        when = f"{stored.archived_at:%Y-%m-%d %H:%M} UTC"
        console.print(
            Text(f"Archived {when} by {stored.archived_by} (`hindsight unarchive {pm.key}`)")
        )
    sections = [
        ("1. Overview", _overview(pm)),
        ("Timeline", _timeline(pm)),
        ("2. Root cause analysis", _analysis(pm)),
        ("3. Impact", _impact(pm)),
        ("4. Response", _response(pm)),
        ("5. Lessons learned", _bullets(tuple(lesson.text for lesson in pm.lessons))),
        ("6. Action items", _actions(pm)),
    ]
    for title, body in sections:
        console.print(Panel(body, title=title, title_align="left", border_style="dim"))


def _value(value: Any) -> str:
    return "∅" if value is None else json.dumps(value, ensure_ascii=False)[:80]


def render_history(console: Console, revisions: list[Revision]) -> None:
    """Print each revision with its changed fields."""
    for revision in revisions:
        console.print(
            Text.assemble(
                (f"v{revision.version}", "bold"),
                f"  {revision.at:%Y-%m-%d %H:%M:%S} UTC  ",
                (revision.author, "cyan"),
                f"  {revision.action}  ",
                (f"{len(revision.changes)} change(s)", "dim"),
            )
        )
        lines = describe_changes(revision.changes)
        for line in lines[:40]:
            console.print(Text(f"    {line.text}"))
            if line.diff:
                console.print(Text("      ") + _diff_text(line.diff))
        if len(lines) > 40:
            console.print(Text(f"    … and {len(lines) - 40} more", style="dim"))


def _diff_text(parts: list[DiffPart]) -> Text:
    styles = {"del": "red strike", "ins": "green", "same": "dim", "gap": "dim"}
    text = Text()
    for part in parts:
        text.append(part.text + " ", style=styles[part.op])
    return text
