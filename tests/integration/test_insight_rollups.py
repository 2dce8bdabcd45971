"""The insights' monthly rollups (storage/insight_rollups.py) give the same numbers as the
facts they summarise, on both databases: every filter the dashboard offers (whole months,
ranges that cut a month, a service, a team, both, severities), for readers who see the
restricted incident and readers who do not, with action items due around today (this
month's by day), against the facts-only path of services/insights.py."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from hindsight.domain.access import Actor
from hindsight.services import insights
from hindsight.services.database import Database, open_database
from hindsight.services.incidents import create_postmortem, utc_now
from hindsight.services.insight_plan import every_incident_part, plan
from hindsight.services.insights import InsightFilter, gather_insights, insights_as_dict
from hindsight.storage.insight_rows import InsightRollupRow
from tests.integration.test_insights import incident, seed

TODAY = utc_now().date()


def _this_month_items() -> list[dict[str, Any]]:
    """Items due around today: overdue by two days, due in two days, due last month, due
    next month, none; owners in two teams."""
    first = TODAY.replace(day=1)
    dues = [
        TODAY - dt.timedelta(days=2),
        TODAY + dt.timedelta(days=2),
        first - dt.timedelta(days=3),
        first + dt.timedelta(days=40),
        None,
    ]
    return [
        {
            "title": f"Item {n}",
            "owner": "ana" if n % 2 else "cy",
            "kind": ["prevent", "detect", "mitigate"][n % 3],
            "priority": f"P{n % 4 + 1}",
            "due": None if due is None else due.isoformat(),
        }
        for n, due in enumerate(dues)
    ]


@pytest.fixture(scope="module")
def seeded(databases: Any, backend: str) -> Iterator[tuple[Database, dict[str, Actor]]]:
    database = open_database(databases.new_url(backend))
    with database.transaction() as session:
        people = seed(session)
        participants = [
            {"name": "ana", "role": "responder", "team": "payments"},
            {"name": "cy", "role": "responder", "team": "search"},
        ]
        for n, severity in enumerate(("SEV2", "SEV3", "SEV4")):
            created = dt.datetime.combine(TODAY, dt.time(8), dt.UTC) - dt.timedelta(days=n * 20)
            create_postmortem(
                session,
                postmortem=incident(
                    f"now{n}",
                    created,
                    severity,
                    7 + 13 * n,
                    services=["search" if n else "checkout"],
                    participants=participants,
                    action_items=_this_month_items(),
                    factors=["dependency"],
                ),
                author="ana",
                actor=people["ana"],
                now=created,
            )
    yield database, people
    database.dispose()


FILTERS = [
    {},
    {"start": dt.date(2000, 1, 1)},
    {"start": dt.date(2024, 1, 1), "end": dt.date(2024, 2, 29)},  # whole months
    {"start": dt.date(2024, 1, 5), "end": dt.date(2024, 2, 10)},  # both ends cut a month
    {"start": dt.date(2024, 1, 5), "end": dt.date(2024, 1, 25)},  # inside one month
    {"start": TODAY - dt.timedelta(days=45)},
    {"end": TODAY - dt.timedelta(days=1)},
    {"service": "search"},
    {"service": "checkout", "start": dt.date(2024, 1, 10)},
    {"team": "payments"},
    {"team": "search", "start": dt.date(2000, 1, 1)},
    {"service": "search", "team": "search"},  # no rollup has the pair
    {"severities": ["SEV1"]},
    {"severities": ["SEV2", "SEV3"], "start": dt.date(2000, 1, 1)},
    {"severities": ["SEV3"], "team": "search", "start": dt.date(2000, 1, 1)},
]


def _both(session: Any, filters: InsightFilter, actor: Actor, monkeypatch: Any) -> Any:
    with_rollups = insights_as_dict(gather_insights(session, filters=filters, actor=actor))
    with monkeypatch.context() as patch:
        patch.setattr(insights, "plan", lambda f, _: (None, [every_incident_part(f)]))
        from_facts = insights_as_dict(gather_insights(session, filters=filters, actor=actor))
    return with_rollups, from_facts


@pytest.mark.parametrize("who", ["ana", "bo", "root"])
def test_the_rollups_give_the_numbers_of_the_facts_for_every_filter(
    seeded: tuple[Database, dict[str, Actor]], who: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    database, people = seeded
    with database.reading() as session:
        assert session.scalar(select(InsightRollupRow.n).limit(1)) is not None
        # All but the pair (service and team) and the two ranges without a whole month in
        # them use the rollups.
        used = [plan(InsightFilter(**f), people[who])[0] for f in FILTERS]
        assert sum(months is not None for months in used) == 12
        for values in FILTERS:
            filters = InsightFilter(**values)
            with_rollups, from_facts = _both(session, filters, people[who], monkeypatch)
            assert with_rollups == from_facts, (who, values)


def test_items_due_this_month_count_as_overdue_by_day(
    seeded: tuple[Database, dict[str, Actor]],
) -> None:
    database, people = seeded
    with database.reading() as session:
        result = gather_insights(session, filters=InsightFilter(), actor=people["root"])
    this_month, last_month = TODAY.replace(day=1), TODAY.replace(day=1) - dt.timedelta(days=1)
    # Three incidents, each with one item due two days ago and one due last month (open);
    # those due in two days or next month are not overdue yet. A day into the month, "two
    # days ago" is last month too.
    overdue = result.items_by_month
    two_days_ago = TODAY - dt.timedelta(days=2)
    expected_this = 3 if two_days_ago >= this_month else 0
    assert overdue[f"{this_month:%Y-%m}"].overdue == expected_this
    if f"{last_month:%Y-%m}" in overdue:
        assert overdue[f"{last_month:%Y-%m}"].overdue == 6 - expected_this
    assert result.items_by_team["payments"].overdue + result.items_by_team["search"].overdue == 6
