"""Reasoning over imported evidence: which events are the same happening seen by two tools,
which events mark the key moments of the incident, with the reason for each proposal, and
which time window an import should look at by default."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from hindsight.analysis.metrics import ResponseMetrics, metrics_from_moments
from hindsight.domain.evidence import Signal
from hindsight.domain.timeline import EventKind, KeyMoment, TimelineEvent

WINDOW_MARGIN = dt.timedelta(hours=1)
SAME_SUBJECT_WINDOW = dt.timedelta(minutes=5)
SIMILAR_TEXT_WINDOW = dt.timedelta(minutes=2)
SIMILAR_TEXT = 0.6
_WORD = re.compile(r"[a-z0-9][a-z0-9_.-]{2,}")
_NOISE = {
    "alert",
    "alerts",
    "firing",
    "resolved",
    "triggered",
    "incident",
    "the",
    "and",
    "for",
    "with",
    "from",
    "acknowledged",
    "opened",
    "closed",
    "note",
}
# Kinds that can describe the same happening, grouped.
_FAMILIES = {
    EventKind.ALERT: "alert",
    EventKind.PAGE: "alert",
    EventKind.ACKNOWLEDGEMENT: "ack",
    EventKind.ESCALATION: "escalation",
    EventKind.RESOLUTION: "resolution",
    EventKind.DEPLOY: "change",
    EventKind.CHANGE: "change",
}


@dataclass(frozen=True)
class Candidate:
    """An event with what it signals; `ref` lets the caller find it again."""

    ref: str
    event: TimelineEvent
    signal: Signal
    subject: str = ""
    source_kind: str = ""


@dataclass(frozen=True)
class Proposal:
    """A proposed key moment: which event, and why."""

    moment: KeyMoment
    ref: str
    event: TimelineEvent
    reason: str


def _words(text: str) -> set[str]:
    return {word for word in _WORD.findall(text.lower()) if word not in _NOISE}


def _family(event: TimelineEvent) -> str:
    return _FAMILIES.get(event.kind, event.kind.value)


def same_happening(a: Candidate, b: Candidate) -> bool:
    """Whether two events from different tools record the same happening.

    Both must be of the same family (alert/page, acknowledgement, resolution, change…). Then
    either one's subject (an alert name, an incident title) appears in the other's subject or
    text within five minutes, or, within two minutes, at least 60% of the words of the shorter
    text appear in the longer one (a terse page and a verbose alert say the same thing).
    """
    if a.source_kind and a.source_kind == b.source_kind:
        return False
    if _family(a.event) != _family(b.event):
        return False
    apart = abs(a.event.at - b.event.at)
    if apart <= SAME_SUBJECT_WINDOW and (_mentions(a, b) or _mentions(b, a)):
        return True
    if apart > SIMILAR_TEXT_WINDOW:
        return False
    left, right = _words(a.event.text), _words(b.event.text)
    if not left or not right:
        return False
    return len(left & right) / min(len(left), len(right)) >= SIMILAR_TEXT


def _mentions(a: Candidate, b: Candidate) -> bool:
    subject = a.subject.casefold()
    if len(subject) < 4:
        return False
    return subject == b.subject.casefold() or subject in b.event.text.casefold()


@dataclass(frozen=True)
class _Rule:
    moment: KeyMoment
    signals: tuple[Signal, ...]
    last: bool
    reason: Callable[[Candidate], str]
    human: bool = False


def _who(candidate: Candidate) -> str:
    return f" by {candidate.event.actor}" if candidate.event.actor else ""


_RULES = (
    _Rule(
        KeyMoment.IMPACT_STARTED,
        (Signal.SLO_VIOLATED,),
        False,
        lambda c: f"the metrics show impact from here: {c.event.text}",
    ),
    _Rule(
        KeyMoment.IMPACT_STARTED,
        (Signal.ALERT_FIRING, Signal.ERRORS_STARTED),
        False,
        lambda c: (
            f"the earliest sign of impact: {c.event.source} "
            f"{'alert fired' if c.signal is Signal.ALERT_FIRING else 'errors began'}"
        ),
    ),
    _Rule(
        KeyMoment.DETECTED,
        (Signal.PAGED, Signal.ALERT_FIRING),
        False,
        lambda c: (
            f"the first {'page' if c.signal is Signal.PAGED else 'alert'} "
            f"({c.event.source}): the moment the team's tooling noticed"
        ),
    ),
    _Rule(
        KeyMoment.ACKNOWLEDGED,
        (Signal.ACKNOWLEDGED,),
        False,
        lambda c: f"the first acknowledgement{_who(c)} ({c.event.source})",
        human=True,
    ),
    _Rule(
        KeyMoment.MITIGATED,
        (Signal.ALERT_RESOLVED, Signal.ERRORS_STOPPED, Signal.SLO_RECOVERED),
        True,
        lambda c: (
            f"the metrics show impact ending here: {c.event.text}"
            if c.signal is Signal.SLO_RECOVERED
            else f"the last {'alert resolved' if c.signal is Signal.ALERT_RESOLVED else 'error'}"
            f" ({c.event.source}): impact signals stop here"
        ),
    ),
    _Rule(
        KeyMoment.RESOLVED,
        (Signal.INCIDENT_RESOLVED,),
        True,
        lambda c: f"the incident was resolved{_who(c)} ({c.event.source})",
    ),
)


def propose_key_moments(candidates: Sequence[Candidate]) -> list[Proposal]:
    """Propose each key moment from the evidence, in order, each with its reason.

    Impact start: where the metrics first break the SLO, when metric evidence exists (a rate
    of errors is what impact is; an alert fires after it); otherwise the earliest firing alert
    or error onset. Detected: the first page or alert.
    Acknowledged: the first acknowledgement by a person. Mitigated: the last alert resolution or
    end of errors. Resolved: the last incident resolution. A proposal never precedes the one
    before it (an acknowledgement before detection is not taken as the acknowledgement).
    """
    ordered = sorted(candidates, key=lambda c: c.event.at)
    proposals: list[Proposal] = []
    floor: dt.datetime | None = None
    for rule in _RULES:
        if any(p.moment is rule.moment for p in proposals):
            continue  # the metrics' impact start was found: the alert rule does not apply
        matching = [
            c
            for c in ordered
            if c.signal in rule.signals
            and (floor is None or c.event.at >= floor)
            and (not rule.human or c.event.actor)
        ]
        if rule.human and not matching:
            matching = [
                c
                for c in ordered
                if c.signal in rule.signals and (floor is None or c.event.at >= floor)
            ]
        if not matching:
            continue
        chosen = matching[-1] if rule.last else matching[0]
        proposals.append(Proposal(rule.moment, chosen.ref, chosen.event, rule.reason(chosen)))
        floor = chosen.event.at
    return proposals


# One incident's key moments lie within days of each other; proposals further apart come from
# evidence covering several incidents (a PagerDuty folder of years gave "Time to acknowledge:
# 2308d"), and the durations between them mean nothing.
MAX_PROPOSAL_SPAN = dt.timedelta(days=7)


def proposal_span_warning(proposals: Sequence[Proposal]) -> str:
    """A warning when the proposals lie further apart than one incident's moments do ('' when
    they do not): the evidence then spans unrelated incidents and should be narrowed."""
    if len(proposals) < 2:
        return ""
    first = min(proposals, key=lambda p: p.event.at)
    last = max(proposals, key=lambda p: p.event.at)
    span = last.event.at - first.event.at
    if span <= MAX_PROPOSAL_SPAN:
        return ""
    return (
        f"the proposed moments lie {span.days:,} days apart ({first.moment.value} "
        f"{first.event.at:%Y-%m-%d}, {last.moment.value} {last.event.at:%Y-%m-%d}): the evidence "
        "seems to cover several incidents, so no durations are computed from it; re-import it "
        "with --since/--until around this incident, or mark the moments by hand"
    )


def proposed_metrics(proposals: Sequence[Proposal]) -> ResponseMetrics:
    """The response metrics the proposals would give if accepted; none when they span more
    than one incident could (see proposal_span_warning)."""
    if proposal_span_warning(proposals):
        return metrics_from_moments({})
    return metrics_from_moments({p.moment: p.event for p in proposals})


@dataclass(frozen=True)
class ImportWindow:
    """The time window an import uses unless the person gives one, and why."""

    since: dt.datetime
    until: dt.datetime
    basis: str


def default_import_window(timeline: Sequence[TimelineEvent]) -> ImportWindow | None:
    """The incident's impact window (its first to its last key moment: impact started to
    resolved, when both are marked), an hour either side; without two key moments, the day
    around its first event; without events, None (no window).

    Evidence from other days is rarely this incident's: a 2015 Slack export offered 1,031
    messages for a 2017 incident, and a page three days early was proposed as "detected".
    """
    moments = sorted(event.at for event in timeline if event.key_moment is not None)
    if len(moments) >= 2 and moments[0] < moments[-1]:
        return ImportWindow(
            moments[0] - WINDOW_MARGIN,
            moments[-1] + WINDOW_MARGIN,
            "the incident's key moments, an hour either side",
        )
    if not timeline:
        return None
    first = min(event.at for event in timeline)
    half_day = dt.timedelta(hours=12)
    return ImportWindow(first - half_day, first + half_day, "the day around its first event")
