"""What an earlier incident's action items say when it seems to have happened again."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from hindsight.analysis.lint import Finding, Level
from hindsight.domain.actions import ActionItem, ActionKind, ActionStatus

# The kinds of action item that were meant to stop the incident, or to catch it early.
PREVENTIVE = (ActionKind.PREVENT, ActionKind.DETECT)


@dataclass(frozen=True)
class Earlier:
    """An earlier incident this one recurs, with its action items."""

    key: str
    title: str
    action_items: tuple[ActionItem, ...]


def preventive_items(items: Sequence[ActionItem]) -> list[ActionItem]:
    """The prevent and detect items."""
    return [item for item in items if item.kind in PREVENTIVE]


def summarize_actions(items: Sequence[ActionItem]) -> str:
    """'2 of 3 preventive actions done; 'Alert on certificate expiry' still open'."""
    preventive = preventive_items(items)
    if not preventive:
        return "no preventive (prevent or detect) action items were recorded"
    done = [item for item in preventive if item.status is ActionStatus.DONE]
    text = f"{len(done)} of {len(preventive)} preventive action{'s'[: len(preventive) != 1]} done"
    still = [
        f"'{item.title}' still {'open' if item.status is ActionStatus.OPEN else 'in progress'}"
        for item in preventive
        if item.status in (ActionStatus.OPEN, ActionStatus.IN_PROGRESS)
    ]
    dropped = [
        f"'{item.title}' closed as won't do"
        for item in preventive
        if item.status is ActionStatus.WONT_DO
    ]
    return "; ".join([text, *still, *dropped])


def recurrence_findings(earlier: Sequence[Earlier]) -> Iterator[Finding]:
    """A warning for each prevent/detect item of an earlier incident this one recurs that is
    still open or was closed as won't do."""
    for incident in earlier:
        for item in preventive_items(incident.action_items):
            if item.status is ActionStatus.DONE:
                continue
            state = (
                "was closed as won't do"
                if item.status is ActionStatus.WONT_DO
                else ("is still " + item.status.value.replace("_", " "))
            )
            yield Finding(
                "actions/recurrence",
                Level.WARNING,
                "action_items",
                "action_items",
                f"this incident recurs '{incident.title}' ({incident.key}), whose "
                f"{item.kind.value} action '{item.title}' {state}",
                "finish that action, or add one here that stops the incident for good",
            )
