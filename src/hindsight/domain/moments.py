"""One ordering rule for key moments: impact started ≤ detected ≤ acknowledged ≤ mitigated ≤
resolved, for the moments that are present. Edits by people must follow it; a postmortem may
keep a contradiction that the evidence really shows only with a written reason
(`moment_order_note`), and then shows "inconsistent" instead of a negative duration."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hindsight.domain.timeline import KeyMoment, TimelineEvent

ORDER: tuple[KeyMoment, ...] = tuple(KeyMoment)

LABELS: dict[KeyMoment, str] = {
    KeyMoment.IMPACT_STARTED: "impact started",
    KeyMoment.DETECTED: "detected",
    KeyMoment.ACKNOWLEDGED: "acknowledged",
    KeyMoment.MITIGATED: "mitigated",
    KeyMoment.RESOLVED: "resolved",
}


def find_moment_disorder(moments: Mapping[KeyMoment, Any]) -> list[tuple[KeyMoment, KeyMoment]]:
    """Every pair (a, b) where the rule puts a before b but b's time is earlier than a's.

    `moments` maps a moment to an event (with `.at`) or to a time."""
    times = {m: getattr(v, "at", v) for m, v in moments.items()}
    present = [m for m in ORDER if m in times]
    return [
        (earlier, later)
        for i, earlier in enumerate(present)
        for later in present[i + 1 :]
        if times[later] < times[earlier]
    ]


def describe_disorder(pair: tuple[KeyMoment, KeyMoment], moments: Mapping[KeyMoment, Any]) -> str:
    """'"detected" (2024-03-02 09:00 UTC) is before "impact started" (2024-03-02 10:00 UTC)'."""
    earlier, later = pair
    at_earlier = getattr(moments[earlier], "at", moments[earlier])
    at_later = getattr(moments[later], "at", moments[later])
    return (
        f"'{LABELS[later]}' ({at_later:%Y-%m-%d %H:%M} UTC) is before "
        f"'{LABELS[earlier]}' ({at_earlier:%Y-%m-%d %H:%M} UTC)"
    )


def check_key_moments(timeline: Sequence[TimelineEvent], *, allow_disorder: bool) -> None:
    """Each key moment is marked once, and (unless allowed) in the rule's order."""
    seen: dict[KeyMoment, TimelineEvent] = {}
    for index, event in enumerate(timeline):
        if event.key_moment is None:
            continue
        if event.key_moment in seen:
            raise ValueError(
                f"timeline[{index}].key_moment: '{event.key_moment}' is already marked on the "
                f"event at {seen[event.key_moment].at.isoformat()}; each key moment is marked once"
            )
        seen[event.key_moment] = event
    if allow_disorder:
        return
    disorder = find_moment_disorder(seen)
    if disorder:
        raise ValueError(
            f"timeline: {describe_disorder(disorder[0], seen)}; key moments go impact started ≤ "
            "detected ≤ acknowledged ≤ mitigated ≤ resolved. Fix the times, or keep them as the "
            "evidence shows by giving a reason in moment_order_note"
        )
