"""Silences on the timeline, from the first event to resolution: before detection a detection
delay, during the impact a gap in the response, elsewhere a long gap."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator

from hindsight.analysis.findings import Finding, Level
from hindsight.domain.incidents import Postmortem
from hindsight.domain.timeline import KeyMoment

GAP_DURING_IMPACT = dt.timedelta(minutes=30)
GAP_OUTSIDE_IMPACT = dt.timedelta(hours=3)


def _gap_finding(rule: str, gap: dt.timedelta, before: dt.datetime, where: str) -> Finding:
    minutes = int(gap.total_seconds() // 60)
    length = f"{minutes} minutes" if minutes < 180 else f"{minutes / 60:.0f} hours"
    if rule == "timeline/detection-delay":
        return Finding(
            rule,
            Level.WARNING,
            "timeline",
            "timeline",
            f"{length} with no event before detection, after {before:%Y-%m-%d %H:%M} UTC: "
            "a detection delay",
            "what signal existed then, and what would have raised it sooner? Add an action "
            "item of kind 'detect'",
        )
    return Finding(
        rule,
        Level.WARNING,
        "timeline",
        "timeline",
        f"{length} with no event {where}, after {before:%H:%M} UTC",
        "what was the team doing or waiting for? Import chat or paging "
        "evidence, or add what is remembered",
    )


def timeline_findings(pm: Postmortem) -> Iterator[Finding]:
    """Long silences from the first event to resolution: before detection they are a
    detection delay; inside the impact window a gap longer than GAP_DURING_IMPACT, elsewhere
    one longer than GAP_OUTSIDE_IMPACT."""
    moments = pm.key_moments()
    start = moments.get(KeyMoment.IMPACT_STARTED)
    detected = moments.get(KeyMoment.DETECTED)
    end = moments.get(KeyMoment.MITIGATED) or moments.get(KeyMoment.RESOLVED)
    resolved = moments.get(KeyMoment.RESOLVED)
    events = sorted(pm.timeline, key=lambda e: e.at)
    if resolved is not None:
        events = [e for e in events if e.at <= resolved.at]
    for before, after in itertools.pairwise(events):
        gap = after.at - before.at
        impact = start is not None and end is not None and start.at <= before.at < end.at
        if detected is not None and after.at <= detected.at and gap > GAP_DURING_IMPACT:
            yield _gap_finding("timeline/detection-delay", gap, before.at, "")
        elif impact and gap > GAP_DURING_IMPACT:
            yield _gap_finding("timeline/gap", gap, before.at, "during the impact")
        elif not impact and gap > GAP_OUTSIDE_IMPACT:
            yield _gap_finding("timeline/gap", gap, before.at, "between events")
