"""The insights from stored postmortems, on both databases, with restricted incidents counted
only for those who may see them. The set is built so every number is known:

| incident | created | severity | detect | factors | other |
|---|---|---|---|---|---|
| i1 | 2024-01-03 | SEV1 | 10 min | change | team payments; an item closed after 10 days |
| i2 | 2024-01-09 | SEV1 | 20 min | change, capacity | |
| i3 | 2024-01-20 | SEV3 | 30 min | — | service search |
| r1 | 2024-02-05 | SEV1 | 1000 min | security | restricted, member bo |
| p1 | 10 days ago | SEV2 | 5 min | — | published through the review workflow |

Recurrence links (incident_links, as services/recurrence.py records them): i2 recurs i1, r1
recurs i3, p1 recurs r1 — which only those who may see r1 count as a recurrence.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from hindsight.domain.access import Actor, Role
from hindsight.domain.editing import set_fields
from hindsight.services.database import Database, open_database
from hindsight.services.incidents import create_postmortem, update_postmortem, utc_now
from hindsight.services.insights import InsightFilter, gather_insights, insights_as_dict
from hindsight.services.recurrence import link_recurrence
from hindsight.services.reviews import decide, publish, request_review
from tests.factories import make_postmortem
from tests.integration.test_action_items import add_account

JAN = dt.date(2024, 1, 1)
FEB_END = dt.date(2024, 2, 29)


def day(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(hour=9, tzinfo=dt.UTC)


def timeline(start: dt.datetime, detect_minutes: int) -> list[dict[str, Any]]:
    return [
        {"at": start.isoformat(), "text": "Impact", "key_moment": "impact_started"},
        {
            "at": (start + dt.timedelta(minutes=detect_minutes)).isoformat(),
            "text": "Alert",
            "key_moment": "detected",
        },
    ]


def incident(key: str, created: dt.datetime, severity: str, detect: int, **more: Any) -> Any:
    factors = [{"category": c, "description": c} for c in more.pop("factors", [])]
    return make_postmortem(
        key=key,
        severity=severity,
        timeline=timeline(created, detect),
        analysis={"contributing_factors": factors},
        action_items=more.pop("action_items", []),
        participants=more.pop("participants", []),
        services=more.pop("services", ["checkout"]),
        **more,
    )


def seed(session: Any) -> dict[str, Actor]:
    people = {
        "ana": add_account(session, "ana", Role.EDITOR),
        "bo": add_account(session, "bo", Role.EDITOR),
        "out": add_account(session, "out", Role.EDITOR),
        "root": add_account(session, "root", Role.ADMIN),
    }
    recent = utc_now() - dt.timedelta(days=10)
    rows = [
        (
            "ana",
            "i1",
            day("2024-01-03"),
            "SEV1",
            10,
            {
                "factors": ["change"],
                "participants": [{"name": "ana", "role": "responder", "team": "payments"}],
                "action_items": [{"title": "Canary config", "owner": "ana", "kind": "prevent"}],
            },
        ),
        ("ana", "i2", day("2024-01-09"), "SEV1", 20, {"factors": ["change", "capacity"]}),
        ("ana", "i3", day("2024-01-20"), "SEV3", 30, {"services": ["search"]}),
        (
            "bo",
            "r1",
            day("2024-02-05"),
            "SEV1",
            1000,
            {"factors": ["security"], "visibility": "restricted"},
        ),
        ("ana", "p1", recent, "SEV2", 5, {}),
    ]
    for author, key, created, severity, detect, more in rows:
        create_postmortem(
            session,
            postmortem=incident(key, created, severity, detect, **more),
            author=author,
            actor=people[author],
            now=created,
        )
    update_postmortem(
        session,
        key="i1",
        change=lambda pm: set_fields(pm, {f"action_items.{pm.action_items[0].id}.status": "done"}),
        author="ana",
        actor=people["ana"],
        now=day("2024-01-13"),
    )
    request_review(session, key="p1", actor=people["ana"], reviewers=["bo"])
    decide(session, key="p1", actor=people["bo"], approve=True)
    publish(session, key="p1", actor=people["ana"], override="seeded for the insights test")
    for key, earlier in (("i2", "i1"), ("r1", "i3"), ("p1", "r1")):
        link_recurrence(session, key=key, other_key=earlier, author="root", actor=people["root"])
    return people


@pytest.fixture(scope="module")
def seeded(databases: Any, backend: str) -> Iterator[tuple[Database, dict[str, Actor]]]:
    database = open_database(databases.new_url(backend))
    with database.transaction() as session:
        people = seed(session)
    yield database, people
    database.dispose()


def numbers(seeded: tuple[Database, dict[str, Actor]], who: str, **filters: Any) -> Any:
    database, people = seeded
    with database.reading() as session:
        return gather_insights(session, filters=InsightFilter(**filters), actor=people[who])


def test_incidents_per_month_and_time_to_detect_leave_out_what_the_reader_may_not_see(
    seeded: tuple[Database, dict[str, Actor]],
) -> None:
    for who, february in (("ana", 0), ("out", 0), ("bo", 1), ("root", 1)):
        result = numbers(seeded, who, start=JAN, end=FEB_END)
        assert result.months == ["2024-01", "2024-02"]
        assert result.incidents_by_month["2024-01"]["SEV1"] == 2, who
        assert result.incidents_by_month["2024-01"]["SEV3"] == 1, who
        assert result.incidents_by_month["2024-02"]["SEV1"] == february, who
        detect = result.response_by_month["2024-01"]["time_to_detect"]
        assert (detect.count, detect.median, detect.p90) == (3, 20.0, 30.0), who
        secret = result.response_by_month["2024-02"]["time_to_detect"]
        assert secret.median == (1000.0 if february else None), who
        factors = dict(result.top_factors)
        assert factors["change"] == 2 and factors["capacity"] == 1
        assert ("security" in factors) == bool(february), who


def test_filters_narrow_the_incidents_and_their_items(
    seeded: tuple[Database, dict[str, Actor]],
) -> None:
    assert numbers(seeded, "root", start=JAN, end=FEB_END, service="search").incident_count == 1
    by_team = numbers(seeded, "root", start=JAN, end=FEB_END, team="payments")
    assert (by_team.incident_count, by_team.item_count) == (1, 1)
    assert by_team.items_by_team["payments"].closed == 1
    assert by_team.close_by_kind["prevent"].median == 10.0  # days, by construction
    assert by_team.items_by_month["2024-01"].opened == 1
    assert by_team.items_by_month["2024-01"].closed == 1
    sev3 = numbers(seeded, "root", start=JAN, end=FEB_END, severities=["SEV3"])
    assert sev3.incident_count == 1
    with pytest.raises(Exception, match="severity: 'SEV9' is not one of"):
        numbers(seeded, "root", severities=["SEV9"])
    with pytest.raises(Exception, match="from: 2024-02-29 is after to: 2024-01-01"):
        numbers(seeded, "root", start=FEB_END, end=JAN)


def test_share_of_serious_incidents_published_and_days_to_publish(
    seeded: tuple[Database, dict[str, Actor]],
) -> None:
    everything = {"start": dt.date(2000, 1, 1)}
    for who, serious in (("ana", 3), ("root", 4)):
        publication = numbers(seeded, who, **everything).publication
        assert (publication.serious, publication.published) == (serious, 1), who
        assert publication.share == pytest.approx(1 / serious)
        assert publication.median_days_to_publish == pytest.approx(10.0, abs=0.01)
    data = insights_as_dict(numbers(seeded, "ana", **everything))
    assert data["publication"]["share"] == pytest.approx(1 / 3)
    assert data["recurrence"] == {"incidents": 4, "recurrences": 1, "share": 0.25}


def test_recurrence_rate_counts_incidents_linked_to_an_earlier_one_the_reader_may_see(
    seeded: tuple[Database, dict[str, Actor]],
) -> None:
    # (reader, January, February, everything): (incidents, recurrences) each.
    expected = {
        "ana": ((3, 1), (0, 0), (4, 1)),
        "out": ((3, 1), (0, 0), (4, 1)),
        "bo": ((3, 1), (1, 1), (5, 3)),
        "root": ((3, 1), (1, 1), (5, 3)),
    }
    for who, (january, february, overall) in expected.items():
        result = numbers(seeded, who, start=JAN, end=FEB_END)
        by_month = result.recurrence_by_month
        assert (by_month["2024-01"].incidents, by_month["2024-01"].recurrences) == january, who
        assert (by_month["2024-02"].incidents, by_month["2024-02"].recurrences) == february, who
        assert by_month["2024-01"].share == pytest.approx(1 / 3)
        assert by_month["2024-02"].share == (1.0 if february[0] else None), who
        everything = numbers(seeded, who, start=dt.date(2000, 1, 1)).recurrence
        assert (everything.incidents, everything.recurrences) == overall, who
    data = insights_as_dict(numbers(seeded, "bo", start=JAN, end=FEB_END))
    assert data["recurrence_by_month"]["2024-02"] == {
        "incidents": 1,
        "recurrences": 1,
        "share": 1.0,
    }
