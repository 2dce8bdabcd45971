"""Who is reminded of what, once: action items due soon and overdue (then weekly), reviews
waiting, the weekly digest; restricted incidents reach only those who may see them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hindsight.domain.access import Actor, Role
from hindsight.errors import InvalidInputError, NotFoundError
from hindsight.services.notifications import add_channel, list_channels, remove_channel
from hindsight.services.reminders import find_due_reminders, send_weekly_digests
from hindsight.services.reviews import add_member, request_review
from hindsight.storage.models import DeliveryRow, NotificationRow, UserRow
from tests.factories import make_incident

NOW = dt.datetime(2024, 3, 29, 9, 0, tzinfo=dt.UTC)  # the factory's item is due 2024-04-01


def person(
    session: Session, username: str, *, display: str = "", role: Role = Role.EDITOR
) -> Actor:
    row = UserRow(
        username=username,
        display_name=display,
        password_hash="not used here",
        role=role.value,
        created_at=NOW,
    )
    session.add(row)
    session.flush()
    return Actor(row.id, username, display or username, role)


def scan(session: Session, now: dt.datetime) -> list[tuple[str, str]]:
    find_due_reminders(session, now=now, soon_days=3, base_url="https://hindsight.example")
    rows = session.execute(
        select(UserRow.username, NotificationRow.key)
        .join(UserRow, NotificationRow.user_id == UserRow.id)
        .order_by(NotificationRow.id)
    )
    return [(name, key) for name, key in rows]


def test_an_owner_is_reminded_once_when_due_soon_then_overdue_and_weekly(session: Session) -> None:
    ana = person(session, "ana.k", display="Ana")
    add_channel(session, actor=ana, kind="email", target="ana@example.org", now=NOW)
    make_incident(session)
    assert scan(session, NOW - dt.timedelta(days=1)) == []  # four days before: not yet
    soon = scan(session, NOW)
    assert [key.split(":")[-2:] for _, key in soon] == [["due-soon", "2024-04-01"]]
    assert scan(session, NOW + dt.timedelta(hours=5)) == soon  # again the same day: nothing new
    days = [NOW + dt.timedelta(days=d) for d in (4, 5, 10, 11, 12)]  # 1, 2, 7, 8, 9 days late
    for moment in days:
        found = scan(session, moment)
    overdue = [key.rsplit(":", 1)[-1] for _, key in found if ":overdue:" in key]
    assert overdue == ["0", "1"]  # the day after it was due, then a week later
    assert session.scalar(select(func.count(DeliveryRow.id))) == 3  # one per notification


def test_owners_match_accounts_by_username_or_display_name_ignoring_case(session: Session) -> None:
    by_name = person(session, "ana")
    other = person(session, "bo", display="Someone Else")
    for actor in (by_name, other):
        add_channel(session, actor=actor, kind="email", target=f"{actor.username}@x.org", now=NOW)
    make_incident(session)
    assert [name for name, _ in scan(session, NOW)] == ["ana"]


def test_nobody_without_a_channel_and_no_closed_item_is_reminded(session: Session) -> None:
    person(session, "ana")
    make_incident(session)
    closer = person(session, "bo")
    add_channel(session, actor=closer, kind="email", target="bo@example.org", now=NOW)
    items = [{"title": "Done already", "owner": "bo", "due": "2024-03-30", "status": "done"}]
    make_incident(session, key="2024-03-06-other", action_items=items)
    assert scan(session, NOW) == []


def test_restricted_incidents_remind_only_those_who_may_see_them(session: Session) -> None:
    member, outsider = person(session, "ana"), person(session, "Ana2", display="ana")
    boss = person(session, "boss", role=Role.ADMIN)
    for actor in (member, outsider, boss):
        add_channel(session, actor=actor, kind="email", target=f"{actor.id}@x.org", now=NOW)
    items = [{"title": "Rotate the leaked key", "owner": "ana", "due": "2024-03-30"}]
    make_incident(session, key="2024-03-05-leak", visibility="restricted", action_items=items)
    add_member(session, key="2024-03-05-leak", actor=boss, username="ana")
    assert [name for name, _ in scan(session, NOW)] == ["ana"]  # not the other "ana"
    send_weekly_digests(session, now=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))
    bodies = dict(
        session.execute(
            select(UserRow.username, NotificationRow.body)
            .join(UserRow, NotificationRow.user_id == UserRow.id)
            .where(NotificationRow.kind == "weekly_digest")
        ).all()
    )
    assert "Rotate the leaked key" in bodies["ana"] and "Rotate the leaked key" in bodies["boss"]
    assert "leak" not in bodies["Ana2"] and "Rotate" not in bodies["Ana2"]


def test_a_reviewer_is_reminded_once_per_request(session: Session) -> None:
    owner, reviewer = person(session, "owner"), person(session, "rita")
    add_channel(session, actor=reviewer, kind="email", target="rita@example.org", now=NOW)
    make_incident(session, action_items=[])
    request_review(
        session, key="2024-03-05-checkout-errors", actor=owner, reviewers=["rita"], now=NOW
    )
    first = scan(session, NOW)
    assert [key.split(":")[0] for _, key in first] == ["review"]
    assert scan(session, NOW + dt.timedelta(days=1)) == first


def test_the_weekly_digest_counts_new_closed_and_overdue_items_once_a_week(
    session: Session,
) -> None:
    reader = person(session, "ana")
    add_channel(session, actor=reader, kind="email", target="ana@example.org", now=NOW)
    make_incident(session, participants=[{"name": "Ana", "role": "responder", "team": "payments"}])
    later = dt.datetime.now(dt.UTC)  # the incident was created now
    assert send_weekly_digests(session, now=later + dt.timedelta(hours=1)) != []
    assert send_weekly_digests(session, now=later + dt.timedelta(hours=2)) == []  # same week
    digest = session.scalar(select(NotificationRow).where(NotificationRow.kind == "weekly_digest"))
    assert digest is not None
    assert "New postmortems (1)" in digest.body and "payments" in digest.body
    assert "Action items overdue (1)" in digest.body  # due 2024-04-01, long past
    assert digest.payload["new"] == ["2024-03-05-checkout-errors"]


@pytest.mark.parametrize(
    ("kind", "target", "problem"),
    [
        ("email", "not an address", "is not an e-mail address"),
        ("slack", "ftp://hooks.example/x", "is not a web address"),
        ("webhook", "", "give an address or URL"),
        ("pager", "x@y.z", "is not a channel; choose one of email, slack, webhook"),
    ],
)
def test_a_bad_channel_is_refused_with_the_field_and_nothing_is_saved(
    session: Session, kind: str, target: str, problem: str
) -> None:
    actor = person(session, "ana")
    with pytest.raises(InvalidInputError, match=problem):
        add_channel(session, actor=actor, kind=kind, target=target, now=NOW)
    assert list_channels(session, actor=actor) == []


def test_a_person_removes_only_their_own_channels(session: Session) -> None:
    ana, bo = person(session, "ana"), person(session, "bo")
    hook = add_channel(session, actor=ana, kind="webhook", target="https://h.example/x", now=NOW)
    assert len(hook.secret) >= 32
    with pytest.raises(NotFoundError):
        remove_channel(session, actor=bo, channel_id=hook.id)
    remove_channel(session, actor=ana, channel_id=hook.id)
    assert list_channels(session, actor=ana) == []


def test_the_digest_lists_an_item_marked_done_this_week_from_the_history(session: Session) -> None:
    import dataclasses

    from hindsight.domain.actions import ActionStatus
    from hindsight.services.incidents import update_postmortem

    reader = person(session, "ana")
    add_channel(session, actor=reader, kind="email", target="ana@example.org", now=NOW)
    make_incident(session)

    def close(pm: Any) -> Any:
        done = dataclasses.replace(pm.action_items[0], status=ActionStatus.DONE)
        return dataclasses.replace(pm, action_items=[done])

    update_postmortem(session, key="2024-03-05-checkout-errors", change=close, author="ana")
    send_weekly_digests(session, now=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1))
    digest = session.scalar(select(NotificationRow).where(NotificationRow.kind == "weekly_digest"))
    assert digest is not None
    assert "Action items closed (1)" in digest.body and "Action items overdue (0)" in digest.body
    assert digest.payload["closed"][0].endswith("(2024-03-05-checkout-errors)")
