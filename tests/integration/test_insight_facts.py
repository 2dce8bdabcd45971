"""The insights' facts (storage/insight_rows.py) stay in step with every change, on both
databases: after each step the stored rows hold the values the step implies and equal what
recomputing them from scratch gives (storage/insight_facts.refresh_insight_facts), and so do
the monthly rollups kept by adding and subtracting (storage/insight_rollups.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hindsight.domain.codec import postmortem_from_dict, postmortem_to_dict
from hindsight.domain.incidents import Postmortem
from hindsight.domain.reviews import ReviewAction
from hindsight.services.archive import archive_incident, delete_incident, unarchive_incident
from hindsight.services.incidents import create_postmortem, update_postmortem
from hindsight.services.insights import InsightFilter, gather_insights
from hindsight.storage.insight_facts import refresh_insight_facts
from hindsight.storage.insight_rows import (
    InsightFactorRow,
    InsightIncidentRow,
    InsightItemRow,
    InsightRollupRow,
    InsightScopeRow,
)
from hindsight.storage.models import IncidentRow
from tests.factories import T0, make_postmortem

KEY = "2024-03-05-checkout-errors"
OTHER = "2024-03-06-other"


def _facts(session: Session) -> dict[str, Any]:
    session.flush()
    incidents = {
        row.incident_id: (
            row.month,
            row.severity,
            row.restricted,
            row.archived,
            row.detect_s,
            row.acknowledge_s,
            row.mitigate_s,
            row.resolve_s,
            row.publish_s,
        )
        for row in session.scalars(select(InsightIncidentRow))
    }
    factors = {
        (row.incident_id, row.category, row.severity, row.restricted, row.archived)
        for row in session.scalars(select(InsightFactorRow))
    }
    items = {
        (row.incident_id, row.position): (
            *(row.severity, row.restricted, row.archived, row.opened_month, row.closed_month),
            *(row.due, row.late_month, row.team, row.kind, row.priority, row.close_s),
        )
        for row in session.scalars(select(InsightItemRow))
    }
    rollups = {
        (row.scope, row.restricted, row.severity, row.measure, row.month, row.key, row.bucket): (
            row.n,
            round(row.total, 3),
        )
        for row in session.scalars(select(InsightRollupRow).where(InsightRollupRow.n != 0))
    }
    scopes = {(row.incident_id, row.scope) for row in session.scalars(select(InsightScopeRow))}
    session.expire_all()
    return {
        "incidents": incidents,
        "factors": factors,
        "items": items,
        "rollups": rollups,
        "scopes": scopes,
    }


def _in_step(session: Session) -> dict[str, Any]:
    """The stored facts and rollups, checked equal to a recomputation of every incident's."""
    stored = _facts(session)
    counted = [row for row in stored["incidents"].values() if not row[3]]
    assert bool(stored["rollups"]) == bool(counted)  # archived ones are not counted
    nested = session.begin_nested()
    refresh_insight_facts(session.connection(), None)
    assert _facts(session) == stored
    nested.rollback()
    return stored


def _edit(
    session: Session, key: str, change: Callable[[dict[str, Any]], None], **more: Any
) -> None:
    def apply(postmortem: Postmortem) -> Postmortem:
        data = postmortem_to_dict(postmortem)
        change(data)
        return postmortem_from_dict(data)

    update_postmortem(session, key=key, change=apply, author="tester", **more)


def _create(session: Session, **overrides: Any) -> None:
    create_postmortem(session, postmortem=make_postmortem(**overrides), author="tester", now=T0)


def _id(session: Session, key: str = KEY) -> int | None:
    return session.scalar(select(IncidentRow.id).where(IncidentRow.key == key))


def _row(session: Session, key: str = KEY) -> tuple[Any, ...]:
    return tuple(_in_step(session)["incidents"][_id(session, key)])


def _factors(session: Session) -> set[tuple[Any, ...]]:
    """(category, severity, restricted, archived) of KEY's factor rows."""
    mine = _id(session)
    return {tuple(f[1:]) for f in _in_step(session)["factors"] if f[0] == mine}


def test_facts_follow_edits_restriction_archive_publication_and_delete(session: Session) -> None:
    _create(session)
    _create(session, key=OTHER, severity="SEV4")
    # The factory's moments: detected after 4 min, acknowledged 5 min later, mitigated at 30,
    # resolved at 42 (seconds here).
    assert _row(session) == ("2024-03", "SEV2", False, False, 240.0, 300.0, 1800.0, 2520.0, None)

    def edit(data: dict[str, Any]) -> None:
        data["severity"] = "SEV1"
        data["analysis"]["contributing_factors"] = [
            {"category": "change", "description": "a push"},
            {"category": "change", "description": "another push"},
            {"category": "capacity", "description": "full"},
        ]
        detected = next(e for e in data["timeline"] if e["key_moment"] == "detected")
        detected["at"] = (T0 + dt.timedelta(minutes=7)).isoformat()
        resolved = next(e for e in data["timeline"] if e["key_moment"] == "resolved")
        resolved["key_moment"] = None

    _edit(session, KEY, edit)
    # Detection moved to 7 min (acknowledged now 2 min after it), no resolution any more.
    assert _row(session) == ("2024-03", "SEV1", False, False, 420.0, 120.0, 1800.0, None, None)
    assert _factors(session) == {
        ("change", "SEV1", False, False),
        ("capacity", "SEV1", False, False),
    }

    def moments_out_of_order(data: dict[str, Any]) -> None:
        data["moment_order_note"] = "the alert fired before the impact began (clock skew)"
        detected = next(e for e in data["timeline"] if e["key_moment"] == "detected")
        detected["at"] = (T0 - dt.timedelta(minutes=1)).isoformat()

    _edit(session, KEY, moments_out_of_order)
    assert _row(session)[4] is None  # a negative time is left out

    _edit(session, KEY, lambda data: data.update(visibility="restricted"))
    assert _row(session)[2] is True
    assert {f[2] for f in _factors(session)} == {True}

    archive_incident(session, key=KEY, author="tester")
    assert _row(session)[3] is True
    assert {f[3] for f in _factors(session)} == {True}
    unarchive_incident(session, key=KEY, author="tester")
    assert _row(session)[2:4] == (True, False)

    later = T0 + dt.timedelta(days=3)
    _edit(
        session,
        OTHER,
        lambda data: data.update(review_status="published"),
        action=ReviewAction.PUBLISH.value,
        review_transition=True,
        now=later,
    )
    # Published three days after it was created (the factory creates it now).
    other = _row(session, OTHER)
    created = session.scalar(select(IncidentRow.created_at).where(IncidentRow.key == OTHER))
    assert created is not None
    assert other[1] == "SEV4" and other[8] == round((later - created).total_seconds(), 3)

    delete_incident(session, key=KEY)
    assert len(_in_step(session)["incidents"]) == 1
    assert _in_step(session)["factors"] == {(_id(session, OTHER), "change", "SEV4", False, False)}


def test_the_dashboard_follows_action_item_changes(session: Session) -> None:
    _create(session, action_items=[])
    whole = InsightFilter(start=dt.date(2024, 1, 1))
    assert gather_insights(session, filters=whole).item_count == 0

    def add_items(data: dict[str, Any]) -> None:
        data["action_items"] = [
            {"title": "Canary", "owner": "Ana", "kind": "prevent", "priority": "P1"},
            {"title": "Alert", "owner": "Ana", "kind": "detect", "priority": "P2"},
        ]

    _edit(session, KEY, add_items, now=T0 + dt.timedelta(days=1))
    result = gather_insights(session, filters=whole)
    assert (result.item_count, result.items_by_month["2024-03"].opened) == (2, 2)

    def close_one(data: dict[str, Any]) -> None:
        data["action_items"][0]["status"] = "done"

    _edit(session, KEY, close_one, now=T0 + dt.timedelta(days=5))
    items = sorted(_in_step(session)["items"].values(), key=lambda item: item[8])
    # By kind: detect (still open), then prevent (closed 4 days after it opened).
    assert [(item[4], item[10]) for item in items] == [(None, None), ("2024-03", 4 * 86400.0)]
    result = gather_insights(session, filters=whole)
    assert result.items_by_month["2024-03"].closed == 1
    assert result.close_by_kind["prevent"].median == 4.0  # opened day 1, closed day 5
    _edit(session, KEY, lambda data: data.update(visibility="restricted"))
    assert gather_insights(session, filters=whole).item_count == 2  # the operator sees all
    archive_incident(session, key=KEY, author="tester")
    assert gather_insights(session, filters=whole).item_count == 0
    _in_step(session)
