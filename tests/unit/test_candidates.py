"""The root-cause ranking (analysis/candidates.py): pure, on real evidence where there is some."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from hindsight.analysis.candidates import (
    CandidateKind,
    Evidence,
    impact_start_of,
    most_recent_change_first,
    rank_candidates,
)
from hindsight.domain.evidence import Signal
from hindsight.domain.timeline import EventKind, TimelineEvent
from hindsight.importers.base import ImportOptions, NoProgress, Source
from hindsight.importers.registry import read_all

DATA = Path(__file__).parent.parent / "data"
PST = dt.timezone(dt.timedelta(hours=-8))
# The reddit-hug report (postmortems/2018-01-18-reddit-hug.md): pods level off at 6:15 PST,
# the node is cordoned at 9:05.
IMPACT = dt.datetime(2018, 1, 18, 6, 15, tzinfo=PST)
MITIGATED = dt.datetime(2018, 1, 18, 9, 5, tzinfo=PST)


def _mybinder() -> list[Evidence]:
    path = DATA / "git" / "mybinder.org-deploy.first-parent.2018-01.jsonl"
    found = read_all("git", Source.open(path), ImportOptions(), NoProgress())
    return [Evidence(f"git:{n}", e.event, e.signal, e.subject) for n, e in enumerate(found)]


def _event(at: dt.datetime, text: str, kind: EventKind = EventKind.NOTE) -> TimelineEvent:
    return TimelineEvent(at=at, text=text, kind=kind, source="test")


def test_the_ingress_replica_merge_is_the_top_change_candidate_of_the_reddit_hug() -> None:
    ranked = rank_candidates(
        _mybinder(), impact_start=IMPACT, impact_end=MITIGATED, services=["jupyterhub"]
    )
    top = ranked[0]
    assert top.kind is CandidateKind.CHANGE
    assert "Merge pull request #287" in top.event.text
    assert "made during the incident, 38 min after the impact started" in top.explanation
    assert "config +0.5 (changes configuration, not code)" in top.explanation
    assert top.score == round(sum(f.points for f in top.factors), 3)


def test_the_baseline_takes_the_most_recent_change_before_the_impact() -> None:
    baseline = most_recent_change_first(_mybinder(), impact_start=IMPACT)
    assert "Merge pull request #285" in baseline[0].event.text


def test_changes_long_before_or_after_the_incident_are_not_candidates() -> None:
    ranked = rank_candidates(_mybinder(), impact_start=IMPACT, impact_end=MITIGATED)
    assert {c.event.text.split("#")[1][:3] for c in ranked} == {"287", "285"}


def test_a_change_reverted_later_scores_higher_and_says_by_what() -> None:
    start = dt.datetime(2024, 3, 5, 9, 0, tzinfo=dt.UTC)
    push = Evidence(
        "a",
        _event(
            start - dt.timedelta(minutes=30),
            "Merged 1a2b3c4d5: Bump pool size (3 files)",
            EventKind.DEPLOY,
        ),
        Signal.CHANGE,
        "Bump pool size",
    )
    other = Evidence(
        "b",
        _event(
            start - dt.timedelta(minutes=20),
            "Merged 9f8e7d6c5: Update docs (3 files)",
            EventKind.DEPLOY,
        ),
        Signal.CHANGE,
        "Update docs",
    )
    revert = Evidence(
        "c",
        _event(
            start + dt.timedelta(hours=2),
            'Merged 77aa88bb9: Revert "Bump pool size"',
            EventKind.DEPLOY,
        ),
        Signal.CHANGE,
        'Revert "Bump pool size"',
    )
    ranked = rank_candidates([push, other, revert], impact_start=start)
    assert [c.ref for c in ranked] == ["a", "b"]
    assert "reverted later: Merged 77aa88bb9" in ranked[0].explanation


def test_symptoms_rank_below_a_near_change_and_only_their_first_occurrence_counts() -> None:
    start = dt.datetime(2024, 3, 5, 9, 0, tzinfo=dt.UTC)
    change = Evidence(
        "deploy",
        _event(
            start - dt.timedelta(minutes=10), "Deployment of v2 to production", EventKind.DEPLOY
        ),
        Signal.CHANGE,
    )
    alerts = [
        Evidence(
            f"alert{n}",
            _event(start + dt.timedelta(minutes=n), "Alert firing: HighLatency"),
            Signal.ALERT_FIRING,
            "HighLatency",
        )
        for n in range(3)
    ]
    memory = Evidence(
        "oom",
        _event(start - dt.timedelta(minutes=1), "Out of memory: Killed process 4242"),
        Signal.ERRORS_STARTED,
        "Out of memory",
    )
    ranked = rank_candidates([change, *alerts, memory], impact_start=start)
    assert [c.ref for c in ranked] == ["deploy", "oom", "alert0"]
    assert ranked[1].kind is CandidateKind.CAPACITY


def test_the_impact_start_comes_from_the_marked_moment_else_the_first_alert() -> None:
    at = dt.datetime(2024, 3, 5, 9, 0, tzinfo=dt.UTC)
    alert = Evidence("x", _event(at, "Alert firing: Down"), Signal.ALERT_FIRING)
    assert impact_start_of({"detected": at}, [])[1] == "the marked 'detected' moment"  # type: ignore[index]
    assert impact_start_of({}, [alert]) == (at, "the first alert or error onset in the evidence")
    assert impact_start_of({}, []) is None


def _alert(minutes: float, service: str, what: str = "latency") -> Evidence:
    at = dt.datetime(2022, 8, 22, 4, 36, tzinfo=dt.UTC) + dt.timedelta(minutes=minutes)
    event = TimelineEvent(at=at, text=f"{what} of {service} out of range", kind=EventKind.ALERT)
    return Evidence(f"{service}/{what}", event, Signal.ALERT_FIRING, f"{what} {service}", service)


# OnlineBoutique's map in part (Nezha's dependency.csv): who calls whom.
CALLS = {"frontend": ["checkoutservice", "cartservice"], "checkoutservice": ["cartservice"]}


def test_with_a_service_map_the_signal_its_callers_follow_ranks_first_and_says_why() -> None:
    start = dt.datetime(2022, 8, 22, 4, 36, tzinfo=dt.UTC)
    # The callers' alerts come first in time; the callee's at the same minute as one of them.
    evidence = [_alert(0, "frontend"), _alert(1, "checkoutservice"), _alert(1, "cartservice")]
    without = rank_candidates(evidence, impact_start=start)
    # Ties (all after the start, the same points): the later first, then the order given.
    assert without[0].ref == "checkoutservice/latency"
    ranked = rank_candidates(evidence, impact_start=start, calls=CALLS)
    assert ranked[0].ref == "cartservice/latency"
    spread = next(f for f in ranked[0].factors if f.name == "spread")
    assert (
        spread.reason
        == "1 of the 2 services that depend on cartservice show signals at or after it"
    )
    # The frontend alert went first, but services it calls went wrong after the impact began
    # too: nothing downstream went before it, and nothing depends on it.
    frontend = next(c for c in ranked if c.ref == "frontend/latency")
    assert {f.name for f in frontend.factors} == {"kind", "time"}
    checkout = next(c for c in ranked if c.ref == "checkoutservice/latency")
    assert "downstream first" not in {f.name for f in checkout.factors}


def test_a_service_whose_dependency_went_wrong_first_is_marked_down() -> None:
    start = dt.datetime(2022, 8, 22, 4, 36, tzinfo=dt.UTC)
    evidence = [_alert(1, "cartservice"), _alert(3, "checkoutservice")]
    ranked = rank_candidates(evidence, impact_start=start, calls=CALLS)
    checkout = next(c for c in ranked if c.ref == "checkoutservice/latency")
    first = next(f for f in checkout.factors if f.name == "downstream first")
    assert first.points < 0
    assert first.reason == (
        "cartservice, which checkoutservice depends on, showed a signal 2 min before it"
    )
    # A dependency's signal from before the impact started is background, not a cause.
    before = [_alert(-4, "cartservice"), _alert(3, "checkoutservice")]
    ranked = rank_candidates(before, impact_start=start, calls=CALLS)
    checkout = next(c for c in ranked if c.ref == "checkoutservice/latency")
    assert "downstream first" not in {f.name for f in checkout.factors}
