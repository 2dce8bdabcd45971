"""Root-cause candidates: which imported events most likely triggered the incident, each with
an explained score.

Four kinds of evidence can be a trigger: a **change** (a deploy, a merge, a config change), a
**first-seen log pattern** (a line shape never seen before the incident), a **first alert**
(the first time an alert of that name fired) and a **capacity signal** (memory, CPU, disk,
quotas, limits, replicas, connection pools). Every candidate's score is a sum of named factors,
each with its points and the reason, so a person can see why it ranks where it does:

- *time*: how close before the impact start it happened (a half-life of one hour for changes,
  ten minutes for symptoms); a change made during the incident, before it was mitigated, is a
  prime suspect too (the change made while responding);
- *service*: it names one of the incident's services;
- *config*: a configuration change rather than code (most triggering changes are config);
- *blast radius*: how much it touched (files changed, lines of a log pattern);
- *spread*: for a symptom, when a service map is given (which service calls which), how many
  of the services that depend on its service (call it, directly or through others) show a
  signal at or after it: a fault spreads to the callers of the faulty service, so the signal
  the others follow is the likelier cause; and a penalty when a service it depends on showed a
  signal first once the impact had started (the cause is then further down);
- *reverted*: a later change reverts it;
- *kind*: changes outrank symptoms, which only say where to look.

The weights are fixed here, chosen before looking at any benchmark; `bench/candidates` reports
how the ranking does on held-out incidents beside "the most recent change first".
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from hindsight.domain.evidence import Signal
from hindsight.domain.timeline import EventKind, TimelineEvent

LOOKBACK = dt.timedelta(hours=24)
CHANGE_HALF_LIFE = dt.timedelta(hours=1)
SYMPTOM_HALF_LIFE = dt.timedelta(minutes=10)
SYMPTOM_GRACE = dt.timedelta(minutes=5)
MAX_CANDIDATES = 20

KIND_POINTS = {"change": 1.0, "capacity": 0.6, "log": 0.4, "alert": 0.3}
TIME_POINTS = 2.0
DURING_INCIDENT_POINTS = 1.5
SERVICE_POINTS = 1.0
CONFIG_POINTS = 0.5
REVERTED_POINTS = 1.5
BLAST_POINTS = 0.3
SPREAD_POINTS = 1.0
DOWNSTREAM_FIRST_POINTS = -0.5

_CAPACITY = re.compile(
    r"(?i)\b(out of memory|oom|memory|cpu|disk (?:full|space)|no space left|quota|limit|"
    r"throttl\w*|saturat\w*|exhaust\w*|replicas?|connection pool|too many|capacity|"
    r"autoscal\w*|evict\w*|backlog)\b"
)
_FILES = re.compile(r"\((\d+) files?\)")
_CONFIG_NOTE = "config change:"
_REVERT = re.compile(r"(?i)\brevert(?:s|ed|ing)?\b")
_SHA = re.compile(r"\b[0-9a-f]{7,40}\b")
_PR = re.compile(r"#(\d+)\b")


class CandidateKind(StrEnum):
    """What sort of evidence a candidate is."""

    CHANGE = "change"
    CAPACITY = "capacity"
    LOG = "log"
    ALERT = "alert"


@dataclass(frozen=True)
class Evidence:
    """One imported event as the ranking sees it; `ref` lets the caller find it again."""

    ref: str
    event: TimelineEvent
    signal: Signal
    subject: str = ""
    service: str = ""  # the service the event is about, when the evidence says


@dataclass(frozen=True)
class Factor:
    """One part of a score: its name, its points and why."""

    name: str
    points: float
    reason: str


@dataclass(frozen=True)
class RootCauseCandidate:
    """A possible trigger with its score and the factors that make it up."""

    ref: str
    event: TimelineEvent
    kind: CandidateKind
    score: float
    factors: tuple[Factor, ...]

    @property
    def explanation(self) -> str:
        """'time +1.6 (38 min before impact); config +0.5 (…)'."""
        return "; ".join(f"{f.name} {f.points:+.1f} ({f.reason})" for f in self.factors)


def _kind(item: Evidence) -> CandidateKind | None:
    if item.signal is Signal.CHANGE or item.event.kind in (EventKind.DEPLOY, EventKind.CHANGE):
        return CandidateKind.CHANGE
    text = f"{item.subject} {item.event.text}"
    symptom = (Signal.ALERT_FIRING, Signal.ERRORS_STARTED, Signal.NEW_LOG_PATTERN)
    if item.signal in symptom and _CAPACITY.search(text):
        return CandidateKind.CAPACITY
    if item.signal in (Signal.NEW_LOG_PATTERN, Signal.ERRORS_STARTED):
        return CandidateKind.LOG
    if item.signal is Signal.ALERT_FIRING:
        return CandidateKind.ALERT
    return None


def _minutes(delta: dt.timedelta) -> str:
    minutes = abs(delta.total_seconds()) / 60
    if minutes < 90:
        return f"{minutes:.0f} min"
    return f"{minutes / 60:.1f} h"


def _time_factor(
    kind: CandidateKind, at: dt.datetime, start: dt.datetime, end: dt.datetime | None
) -> Factor | None:
    """Closeness before the impact start; a change during the incident; None when too far."""
    before = start - at
    if kind is CandidateKind.CHANGE:
        if before >= dt.timedelta(0):
            if before > LOOKBACK:
                return None
            points = TIME_POINTS * 0.5 ** (before / CHANGE_HALF_LIFE)
            return Factor("time", points, f"{_minutes(before)} before the impact started")
        if end is not None and at <= end:
            return Factor(
                "time",
                DURING_INCIDENT_POINTS,
                f"made during the incident, {_minutes(before)} after the impact started",
            )
        return None
    if before < -SYMPTOM_GRACE or before > LOOKBACK:
        return None
    points = TIME_POINTS * 0.5 ** (max(before, dt.timedelta(0)) / SYMPTOM_HALF_LIFE)
    where = "before" if before >= dt.timedelta(0) else "after"
    return Factor("time", points, f"{_minutes(before)} {where} the impact started")


def _service_factor(text: str, services: Sequence[str]) -> Factor | None:
    lowered = text.casefold()
    named = [s for s in services if len(s) >= 3 and s.casefold() in lowered]
    if not named:
        return None
    return Factor("service", SERVICE_POINTS, f"names the affected service {named[0]}")


def _blast_factor(item: Evidence, kind: CandidateKind) -> Factor | None:
    if kind is not CandidateKind.CHANGE:
        return None
    files = _FILES.search(item.event.text)
    config = item.event.text.split(_CONFIG_NOTE, 1)
    count = int(files.group(1)) if files else 0
    if len(config) > 1:
        count = max(count, config[1].count(",") + 1)
    if count <= 1:
        return None
    points = min(BLAST_POINTS * math.log2(count), 2 * BLAST_POINTS)
    return Factor("blast radius", points, f"{count} files changed")


def _reverted_by(item: Evidence, later: Sequence[Evidence]) -> Evidence | None:
    """A later change that says it reverts this one (by sha, pull request or subject)."""
    marks = {m for m in _SHA.findall(item.event.text)} | {
        f"#{n}" for n in _PR.findall(item.event.text)
    }
    subject = item.subject.casefold().strip()
    for other in later:
        text = other.event.text
        if not _REVERT.search(text) or other.event.at <= item.event.at:
            continue
        if any(mark in text for mark in marks) or (len(subject) > 8 and subject in text.casefold()):
            return other
    return None


def _reaching(calls: Mapping[str, Sequence[str]], start: str) -> set[str]:
    """Every service reachable from `start` along `calls` (not `start` itself)."""
    seen: set[str] = set()
    todo = list(calls.get(start, ()))
    while todo:
        service = todo.pop()
        if service not in seen and service != start:
            seen.add(service)
            todo.extend(calls.get(service, ()))
    return seen


def _spread_factors(
    item: Evidence,
    symptoms: Sequence[Evidence],
    calls: Mapping[str, Sequence[str]],
    callers: Mapping[str, Sequence[str]],
    impact_start: dt.datetime,
) -> list[Factor]:
    """Whether the signals of the services that depend on this one follow it, and whether a
    service it depends on went first once the impact had started (signals before it are the
    background the incident began from, often the end of an earlier one)."""
    if not item.service:
        return []
    factors = []
    upstream = _reaching(callers, item.service)
    if upstream:
        after = sorted(
            {s.service for s in symptoms if s.service in upstream and s.event.at >= item.event.at}
        )
        if after:
            factors.append(
                Factor(
                    "spread",
                    SPREAD_POINTS * len(after) / len(upstream),
                    f"{len(after)} of the {len(upstream)} services that depend on "
                    f"{item.service} show signals at or after it",
                )
            )
    downstream = _reaching(calls, item.service)
    first = sorted(
        (s.event.at, s.service)
        for s in symptoms
        if s.service in downstream and impact_start <= s.event.at < item.event.at
    )
    if first:
        factors.append(
            Factor(
                "downstream first",
                DOWNSTREAM_FIRST_POINTS,
                f"{first[0][1]}, which {item.service} depends on, showed a signal "
                f"{_minutes(item.event.at - first[0][0])} before it",
            )
        )
    return factors


def _first_of_each(items: Sequence[Evidence]) -> list[Evidence]:
    """Symptoms repeat (an alert fires every few minutes): only the first of each subject."""
    seen: set[tuple[Signal, str]] = set()
    kept: list[Evidence] = []
    for item in sorted(items, key=lambda i: i.event.at):
        mark = (item.signal, (item.subject or item.event.text[:80]).casefold())
        if item.signal is not Signal.CHANGE and mark in seen:
            continue
        seen.add(mark)
        kept.append(item)
    return kept


def rank_candidates(
    evidence: Sequence[Evidence],
    *,
    impact_start: dt.datetime,
    impact_end: dt.datetime | None = None,
    services: Sequence[str] = (),
    calls: Mapping[str, Sequence[str]] | None = None,
    limit: int = MAX_CANDIDATES,
) -> list[RootCauseCandidate]:
    """The likeliest triggers among `evidence`, best first, each with its factors.

    `impact_start` is when the impact began (the marked moment, else the first sign of it);
    `impact_end` (mitigated or resolved) bounds the changes made during the incident.
    `calls` is the service map when one is known (each service to the services it calls).
    Ties keep the later event first (closer to the impact), then the order given.
    """
    items = _first_of_each(evidence)
    changes = [i for i in items if _kind(i) is CandidateKind.CHANGE]
    symptoms = [i for i in items if _kind(i) not in (None, CandidateKind.CHANGE)]
    callers: dict[str, list[str]] = {}
    for caller, callees in (calls or {}).items():
        for callee in callees:
            callers.setdefault(callee, []).append(caller)
    ranked: list[RootCauseCandidate] = []
    for item in items:
        kind = _kind(item)
        if kind is None:
            continue
        timing = _time_factor(kind, item.event.at, impact_start, impact_end)
        if timing is None:
            continue
        factors = [Factor("kind", KIND_POINTS[kind.value], f"a {kind.value} event"), timing]
        text = f"{item.subject} {item.event.text}"
        extra = [
            _service_factor(text, services),
            _blast_factor(item, kind),
        ]
        if kind is CandidateKind.CHANGE and _CONFIG_NOTE in item.event.text:
            extra.append(Factor("config", CONFIG_POINTS, "changes configuration, not code"))
        if kind is CandidateKind.CHANGE and (revert := _reverted_by(item, changes)):
            extra.append(
                Factor("reverted", REVERTED_POINTS, f"reverted later: {revert.event.text[:60]}")
            )
        factors += [f for f in extra if f is not None]
        if calls and kind is not CandidateKind.CHANGE:
            factors += _spread_factors(item, symptoms, calls, callers, impact_start)
        score = round(sum(f.points for f in factors), 3)
        ranked.append(RootCauseCandidate(item.ref, item.event, kind, score, tuple(factors)))
    ranked.sort(key=lambda c: (-c.score, -c.event.at.timestamp()))
    return ranked[:limit]


def most_recent_change_first(
    evidence: Sequence[Evidence], *, impact_start: dt.datetime
) -> list[Evidence]:
    """The baseline the ranking is measured against: every change before the impact start,
    the most recent first (what a responder does by hand)."""
    before = [
        item
        for item in evidence
        if _kind(item) is CandidateKind.CHANGE and item.event.at <= impact_start
    ]
    return sorted(before, key=lambda item: item.event.at, reverse=True)


def impact_start_of(
    moments: dict[str, dt.datetime], evidence: Sequence[Evidence]
) -> tuple[dt.datetime, str] | None:
    """When the impact began, and where that comes from: the marked 'impact started', else
    'detected', else the first alert or error onset in the evidence; None without any."""
    for name in ("impact_started", "detected"):
        if name in moments:
            return moments[name], f"the marked '{name.replace('_', ' ')}' moment"
    signs = [
        item.event.at
        for item in evidence
        if item.signal in (Signal.ALERT_FIRING, Signal.ERRORS_STARTED, Signal.PAGED)
    ]
    if signs:
        return min(signs), "the first alert or error onset in the evidence"
    return None
