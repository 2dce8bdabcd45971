"""Hypothesis strategies that build any valid postmortem, including awkward text."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import strategies as st

from hindsight.domain.actions import ActionItem, ActionKind, ActionStatus, Priority
from hindsight.domain.impact import Cost, DataLoss, Impact
from hindsight.domain.incidents import (
    IncidentStatus,
    Participant,
    ParticipantRole,
    Postmortem,
    ReviewStatus,
    Severity,
    Visibility,
)
from hindsight.domain.rca import ContributingFactor, RootCauseAnalysis, Why
from hindsight.domain.response import DetectionMethod, ResponseEvaluation
from hindsight.domain.text import clean_prose
from hindsight.domain.timeline import EventKind, KeyMoment, Provenance, TimelineEvent

# Characters that stress the Markdown and YAML forms: table pipes, escapes, entities, headings,
# fences, list markers, quotes, YAML indicators, non-ASCII letters and emoji.
_TRICKY = "|\\<>&#`~-*_:'\"[]{}!%@ \t"
_CHARS = st.characters(
    codec="utf-8",
    exclude_categories=("Cc", "Cs", "Zl", "Zp", "Co", "Cn"),
    exclude_characters="\ufeff",
) | st.sampled_from(_TRICKY)


def line(min_size: int = 0, max_size: int = 40) -> st.SearchStrategy[str]:
    """One line of text; the domain trims it."""
    return (
        st.text(_CHARS, min_size=min_size, max_size=max_size)
        .map(str.strip)
        .filter(lambda value: len(value) >= min_size)
    )


def _is_prose(value: str) -> bool:
    try:
        clean_prose(value, "prose")
    except ValueError:
        return False
    return True


prose = st.lists(st.text(_CHARS, max_size=30), max_size=6).map("\n".join).filter(_is_prose)
multiline = (
    st.lists(line(max_size=20), min_size=1, max_size=3).map("\n".join).map(str.strip).filter(bool)
)
slug = st.from_regex(r"[a-z0-9][a-z0-9-]{0,30}", fullmatch=True)
numbers = st.none() | st.integers(min_value=0, max_value=10**12)
amounts = st.none() | st.floats(min_value=0, max_value=1e9, allow_nan=False)
zones = st.sampled_from(
    [
        "UTC",
        "America/Los_Angeles",
        "Europe/Berlin",
        "Asia/Kolkata",
        "Australia/Lord_Howe",
        "+05:45",
        "-03:30",
    ]
)
times = st.datetimes(
    min_value=dt.datetime(1971, 1, 1),
    max_value=dt.datetime(2199, 1, 1),
    timezones=st.just(dt.UTC),
)

provenance = st.builds(
    Provenance,
    origin=line(1).filter(lambda v: ";" not in v),
    locator=line().filter(lambda v: ";" not in v and "#" not in v),
)
event = st.builds(
    TimelineEvent,
    at=times,
    text=multiline,
    zone=zones,
    source=line(1, 12),
    kind=st.sampled_from(EventKind),
    actor=line(max_size=12),
    provenance=st.lists(provenance, max_size=2).map(tuple),
)


@st.composite
def timelines(draw: Any) -> tuple[TimelineEvent, ...]:
    """Events with some key moments, marked in an order the domain accepts."""
    events = sorted(draw(st.lists(event, max_size=6)), key=lambda e: e.at)
    moments = draw(st.lists(st.sampled_from(KeyMoment), unique=True, max_size=len(events)))
    moments.sort(key=list(KeyMoment).index)
    chosen = sorted(draw(st.permutations(range(len(events))))[: len(moments)])
    marked = list(events)
    for index, moment in zip(chosen, moments, strict=True):
        marked[index] = TimelineEvent(**{**marked[index].__dict__, "key_moment": moment})
    return tuple(marked)


analysis = st.builds(
    RootCauseAnalysis,
    trigger=prose,
    root_causes=st.lists(line(1), max_size=3).map(tuple),
    contributing_factors=st.lists(
        st.builds(
            ContributingFactor,
            category=st.sampled_from(["change", "capacity"]),
            description=line(1),
        ),
        max_size=3,
    ).map(tuple),
    five_whys=st.lists(st.builds(Why, question=line(1), answer=line(1)), max_size=3).map(tuple),
)
impact = st.builds(
    Impact,
    users_affected=numbers,
    failed_requests=numbers,
    downtime_minutes=amounts,
    slo_target_percent=st.none() | st.floats(min_value=0.001, max_value=100),
    error_budget_burned_percent=amounts,
    support_tickets=numbers,
    data_loss=st.builds(DataLoss, records_lost=numbers, rpo_target_minutes=amounts),
    cost=st.builds(Cost, responder_hours=amounts),
    narrative=prose,
)
response = st.builds(
    ResponseEvaluation,
    detection_method=st.none() | st.sampled_from(DetectionMethod),
    detection_notes=prose,
    went_well=st.lists(line(1), max_size=3).map(tuple),
    went_wrong=st.lists(line(1), max_size=3).map(tuple),
    got_lucky=st.lists(line(1), max_size=2).map(tuple),
    communications=prose,
    teams=st.lists(line(1), max_size=2).map(tuple),
)


@st.composite
def action_items(draw: Any) -> ActionItem:
    status = draw(st.sampled_from(ActionStatus))
    reason = draw(line(1)) if status is ActionStatus.WONT_DO else draw(line())
    return ActionItem(
        title=draw(line(1)),
        kind=draw(st.sampled_from(ActionKind)),
        owner=draw(line()),
        priority=draw(st.sampled_from(Priority)),
        due=draw(st.none() | st.dates(dt.date(2000, 1, 1), dt.date(2100, 1, 1))),
        status=status,
        reason=reason,
        tracker_url=draw(st.sampled_from(["", "https://tracker.example/T-1?a=b|c"])),
    )


postmortems = st.builds(
    Postmortem,
    key=slug,
    title=line(1),
    severity=st.sampled_from(Severity),
    status=st.sampled_from(IncidentStatus),
    review_status=st.sampled_from(ReviewStatus),
    visibility=st.sampled_from(Visibility),
    summary=prose,
    services=st.lists(line(1), max_size=3, unique=True).map(tuple),
    tags=st.lists(line(1), max_size=3, unique=True).map(tuple),
    participants=st.lists(
        st.builds(Participant, name=line(1), role=st.sampled_from(ParticipantRole), team=line()),
        max_size=3,
    ).map(tuple),
    timeline=timelines(),
    analysis=analysis,
    impact=impact,
    response=response,
    lessons=st.lists(line(1), max_size=3).map(tuple),
    action_items=st.lists(action_items(), max_size=3).map(tuple),
)
