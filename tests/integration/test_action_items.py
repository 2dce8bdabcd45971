"""Action items across postmortems: filters, visibility, bulk status changes (both databases).

The seeded set is small and built so each filter's answer is known by construction:

| item | incident (severity, service) | owner | team | due | status |
|---|---|---|---|---|---|
| a1 Rotate keys | inc-a (SEV1, checkout) | ana | payments | 2024-06-01 overdue | open P1 prevent |
| a2 Add alert | inc-a | Bo | platform | 2024-06-18 (this week) | in_progress, P2 detect |
| a3 Write runbook | inc-a | Carol (contractor) | — | none | open, P3 process |
| b1 Cache warmup | inc-b (SEV3, search) | Ana Lima | — | 2024-07-30 | open, P2 mitigate |
| b2 Old fix | inc-b | ana | — | 2024-05-01 | done, P4 prevent |
| s1 ZEBRA secret | secret (SEV2, restricted, member bo) | ana | — | 2024-06-01 | open, P1 |
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hindsight.domain.access import Actor, Role
from hindsight.domain.editing import set_fields
from hindsight.errors import ConflictError, NotFoundError, PermissionDeniedError
from hindsight.services.action_items import (
    ActionItemFilter,
    ItemRef,
    list_action_items,
    set_status_in_bulk,
)
from hindsight.services.database import Database, open_database
from hindsight.services.incidents import create_postmortem, get_postmortem, update_postmortem
from hindsight.storage.models import RevisionRow, UserRow
from tests.factories import make_postmortem

TODAY = dt.date(2024, 6, 15)
CREATED = dt.datetime(2024, 5, 20, 9, 0, tzinfo=dt.UTC)


def _item(title: str, owner: str, due: str | None, status: str, priority: str, kind: str) -> Any:
    item: dict[str, Any] = {"title": title, "owner": owner, "due": due, "status": status}
    return {**item, "priority": priority, "kind": kind}


def add_account(session: Session, username: str, role: Role, display_name: str = "") -> Actor:
    """An account row without a usable password (these tests never sign in, and Argon2's
    64 MiB per hash would be most of their time)."""
    row = UserRow(
        username=username,
        display_name=display_name or username,
        password_hash="!unusable",
        role=role.value,
        created_at=CREATED,
    )
    session.add(row)
    session.flush()
    return Actor(row.id, username, row.display_name, role)


def seed(session: Session) -> dict[str, Actor]:
    people = {
        "ana": add_account(session, "ana", Role.EDITOR, "Ana Lima"),
        "bo": add_account(session, "bo", Role.EDITOR),
        "vic": add_account(session, "vic", Role.VIEWER),
        "root": add_account(session, "root", Role.ADMIN),
    }
    incidents = [
        (
            "ana",
            make_postmortem(
                key="inc-a",
                severity="SEV1",
                services=["checkout"],
                participants=[
                    {"name": "ana", "role": "incident_commander", "team": "payments"},
                    {"name": "Bo", "role": "responder", "team": "platform"},
                ],
                action_items=[
                    _item("Rotate keys", "ana", "2024-06-01", "open", "P1", "prevent"),
                    _item("Add alert", "Bo", "2024-06-18", "in_progress", "P2", "detect"),
                    _item("Write runbook", "Carol (contractor)", None, "open", "P3", "process"),
                ],
            ),
        ),
        (
            "ana",
            make_postmortem(
                key="inc-b",
                severity="SEV3",
                services=["search"],
                participants=[],
                action_items=[
                    _item("Cache warmup", "Ana Lima", "2024-07-30", "open", "P2", "mitigate"),
                    _item("Old fix", "ana", "2024-05-01", "done", "P4", "prevent"),
                ],
            ),
        ),
        (
            "bo",
            make_postmortem(
                key="secret",
                severity="SEV2",
                visibility="restricted",
                action_items=[_item("ZEBRA secret", "ana", "2024-06-01", "open", "P1", "prevent")],
            ),
        ),
    ]
    for author, postmortem in incidents:
        create_postmortem(
            session, postmortem=postmortem, author=author, actor=people[author], now=CREATED
        )
    return people


@pytest.fixture(scope="module")
def seeded(databases: Any, backend: str) -> Iterator[tuple[Database, dict[str, Actor]]]:
    database = open_database(databases.new_url(backend))
    with database.transaction() as session:
        people = seed(session)
    yield database, people
    database.dispose()


@pytest.fixture
def work(seeded: tuple[Database, dict[str, Actor]]) -> Iterator[tuple[Session, dict[str, Actor]]]:
    """A session on the seeded database whose changes are rolled back after the test."""
    database, people = seeded
    connection = database.engine.connect()
    transaction = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield session, people
    finally:
        session.close()
        transaction.rollback()
        connection.close()


def titles(session: Session, actor: Actor | None, sort: str = "due", **filters: Any) -> list[str]:
    page = list_action_items(
        session, filters=ActionItemFilter(**filters), actor=actor, sort=sort, today=TODAY
    )
    assert page.total == len(page.items)
    return [item.title for item in page.items]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"mine": True}, ["Rotate keys", "Cache warmup", "Old fix"]),
        ({"mine": True, "due": "overdue"}, ["Rotate keys"]),
        ({"due": "week"}, ["Add alert"]),
        ({"due": "none"}, ["Write runbook"]),
        ({"team": "payments"}, ["Rotate keys"]),
        ({"team": "platform"}, ["Add alert"]),
        ({"service": "search"}, ["Old fix", "Cache warmup"]),
        ({"severities": ["SEV1"]}, ["Rotate keys", "Add alert", "Write runbook"]),
        ({"kinds": ["detect", "mitigate"]}, ["Add alert", "Cache warmup"]),
        ({"priorities": ["P1"]}, ["Rotate keys"]),
        ({"statuses": ["done"]}, ["Old fix"]),
        ({"owner": "Carol (contractor)"}, ["Write runbook"]),
    ],
)
def test_each_filter_keeps_exactly_the_items_built_to_match_it(
    work: tuple[Session, dict[str, Actor]], filters: dict[str, Any], expected: list[str]
) -> None:
    session, people = work
    found = titles(session, people["ana"], **filters)
    assert sorted(found) == sorted(expected)


def test_the_list_is_sorted_by_due_date_with_undated_items_last(
    work: tuple[Session, dict[str, Actor]],
) -> None:
    session, people = work
    assert titles(session, people["ana"]) == [
        "Old fix",
        "Rotate keys",
        "Add alert",
        "Cache warmup",
        "Write runbook",
    ]
    assert titles(session, people["ana"], sort="priority")[0] == "Rotate keys"
    # By owner: the two items of 'ana' next to each other (collations differ on case).
    by_owner = titles(session, people["ana"], sort="owner")
    assert abs(by_owner.index("Rotate keys") - by_owner.index("Old fix")) == 1


def test_restricted_items_show_only_to_members_and_admins(
    work: tuple[Session, dict[str, Actor]],
) -> None:
    session, people = work
    assert "ZEBRA secret" not in titles(session, people["ana"])
    assert "ZEBRA secret" not in titles(session, people["vic"])
    assert "ZEBRA secret" in titles(session, people["bo"])
    assert "ZEBRA secret" in titles(session, people["root"])
    # Filtering by its owner or due date does not reveal it either.
    assert titles(session, people["ana"], due="overdue", mine=True) == ["Rotate keys"]


def test_items_know_their_team_age_and_whether_the_owner_is_an_account(
    work: tuple[Session, dict[str, Actor]],
) -> None:
    session, people = work
    page = list_action_items(session, actor=people["root"], today=TODAY)
    by_title = {item.title: item for item in page.items}
    assert by_title["Rotate keys"].team == "payments"
    assert by_title["Write runbook"].team == ""
    assert by_title["Rotate keys"].owner_is_account
    assert by_title["Cache warmup"].owner_is_account  # the display name
    assert not by_title["Write runbook"].owner_is_account  # free text stays free text
    assert by_title["Rotate keys"].opened_at == CREATED
    assert by_title["Old fix"].closed_at == CREATED
    assert by_title["Old fix"].time_to_close == dt.timedelta(0)
    now = CREATED + dt.timedelta(days=3)
    assert by_title["Rotate keys"].age(now) == dt.timedelta(days=3)
    assert by_title["Rotate keys"].is_overdue(TODAY) and not by_title["Old fix"].is_overdue(TODAY)


def test_bulk_done_makes_one_revision_per_postmortem_and_records_when_items_closed(
    work: tuple[Session, dict[str, Actor]],
) -> None:
    session, people = work
    later = CREATED + dt.timedelta(days=4, hours=2)

    def revisions() -> int:
        return session.scalar(select(func.count(RevisionRow.id))) or 0

    before = revisions()
    stored = set_status_in_bulk(
        session,
        items=[
            ItemRef("inc-a", _id(session, "inc-a", "Rotate keys"), 1),
            ItemRef("inc-a", _id(session, "inc-a", "Add alert"), 1),
            ItemRef("inc-b", _id(session, "inc-b", "Cache warmup")),
        ],
        status="done",
        actor=people["ana"],
        author="ana",
        now=later,
    )
    assert [s.postmortem.key for s in stored] == ["inc-a", "inc-b"]
    assert revisions() == before + 2
    page = list_action_items(session, actor=people["ana"], today=TODAY)
    by_title = {item.title: item for item in page.items}
    for title in ("Rotate keys", "Add alert", "Cache warmup"):
        assert by_title[title].status == "done"
        assert by_title[title].closed_at == later
        assert by_title[title].time_to_close == dt.timedelta(days=4, hours=2)
    assert by_title["Write runbook"].status == "open"
    # Reopening clears the closing time; closing again records the new one.
    set_status_in_bulk(
        session,
        items=[ItemRef("inc-b", _id(session, "inc-b", "Cache warmup"))],
        status="open",
        actor=people["ana"],
        author="ana",
        now=later + dt.timedelta(days=1),
    )
    reopened = list_action_items(session, actor=people["ana"], today=TODAY, limit=100)
    assert next(i for i in reopened.items if i.title == "Cache warmup").closed_at is None


def _id(session: Session, key: str, title: str) -> str:
    stored = get_postmortem(session, key=key)
    return next(item.id for item in stored.postmortem.action_items if item.title == title)


def test_a_failing_bulk_change_leaves_every_postmortem_as_it_was(
    seeded: tuple[Database, dict[str, Actor]],
) -> None:
    database, people = seeded
    with database.reading() as session:
        good = ItemRef("inc-a", _id(session, "inc-a", "Rotate keys"))
        secret = ItemRef("secret", _id(session, "secret", "ZEBRA secret"))
        versions = {key: get_postmortem(session, key=key).version for key in ("inc-a", "secret")}
    cases: list[tuple[list[ItemRef], Actor, type[Exception], str]] = [
        ([good, ItemRef("inc-b", "ai-000000")], people["ana"], NotFoundError, "ai-000000"),
        ([good, secret], people["ana"], NotFoundError, "secret"),  # not visible to ana
        ([good], people["vic"], PermissionDeniedError, "viewers"),
    ]
    for refs, actor, error, words in cases:
        with pytest.raises(error, match=words), database.transaction() as session:
            set_status_in_bulk(session, items=refs, status="done", actor=actor, author="x")
    with database.reading() as session:
        assert {k: get_postmortem(session, key=k).version for k in versions} == versions
        assert titles(session, people["ana"], statuses=["done"]) == ["Old fix"]


def test_wont_do_in_bulk_needs_a_reason_and_bad_values_are_named(
    work: tuple[Session, dict[str, Actor]],
) -> None:
    session, people = work
    ref = ItemRef("inc-a", _id(session, "inc-a", "Rotate keys"))
    with pytest.raises(Exception, match="reason"):
        set_status_in_bulk(session, items=[ref], status="wont_do", actor=people["ana"], author="a")
    with pytest.raises(Exception, match="status: 'finished' is not one of"):
        set_status_in_bulk(session, items=[ref], status="finished", actor=people["ana"], author="a")
    with pytest.raises(Exception, match="due: 'soon' is not one of overdue, week, none"):
        list_action_items(session, filters=ActionItemFilter(due="soon"), actor=people["ana"])
    set_status_in_bulk(
        session,
        items=[ref],
        status="wont_do",
        reason="replaced by SSO",
        actor=people["ana"],
        author="ana",
    )
    item = next(
        i
        for i in get_postmortem(session, key="inc-a").postmortem.action_items
        if i.id == ref.item_id
    )
    assert (item.status, item.reason) == ("wont_do", "replaced by SSO")


def test_a_stale_bulk_change_merges_or_reports_the_conflicting_field(
    work: tuple[Session, dict[str, Actor]],
) -> None:
    session, people = work
    rotate, alert = _id(session, "inc-a", "Rotate keys"), _id(session, "inc-a", "Add alert")
    update_postmortem(
        session,
        key="inc-a",
        change=lambda pm: set_fields(pm, {f"action_items.{rotate}.status": "in_progress"}),
        author="bo",
        actor=people["bo"],
    )
    # Another item of the same postmortem, read at version 1: merged.
    set_status_in_bulk(
        session,
        items=[ItemRef("inc-a", alert, 1)],
        status="done",
        actor=people["ana"],
        author="ana",
    )
    # The item Bo changed since version 1: a conflict naming its status.
    with pytest.raises(ConflictError, match="status"):
        set_status_in_bulk(
            session,
            items=[ItemRef("inc-a", rotate, 1)],
            status="done",
            actor=people["ana"],
            author="ana",
        )


def test_published_postmortems_still_take_bulk_status_changes(
    work: tuple[Session, dict[str, Actor]],
) -> None:
    session, people = work
    update_postmortem(
        session,
        key="inc-b",
        change=lambda pm: set_fields(pm, {"review_status": "published"}),
        author="operator",
        review_transition=True,
    )
    ref = ItemRef("inc-b", _id(session, "inc-b", "Cache warmup"))
    stored = set_status_in_bulk(
        session, items=[ref], status="done", actor=people["ana"], author="ana"
    )
    assert stored[0].postmortem.review_status == "published"


def test_the_items_copies_of_their_incident_follow_every_change_of_it(
    work: tuple[Session, dict[str, Actor]],
) -> None:
    """Items carry their incident's severity, restriction, archive state and the owner's team
    (migration 0019); each change of the incident changes them in the same transaction."""
    from hindsight.services.archive import archive_incident, unarchive_incident

    session, people = work
    root = people["root"]

    def change(key: str, values: dict[str, Any]) -> None:
        update_postmortem(
            session,
            key=key,
            change=lambda pm: set_fields(pm, values),
            author="root",
            actor=root,
        )

    change("inc-b", {"severity": "SEV1"})
    assert "Cache warmup" in titles(session, root, severities=["SEV1"])
    assert titles(session, root, severities=["SEV3"]) == []
    change("inc-b", {"visibility": "restricted"})
    assert "Cache warmup" not in titles(session, people["bo"])
    assert "Cache warmup" in titles(session, people["ana"])  # the author is a member
    change("inc-b", {"visibility": "internal"})
    assert "Cache warmup" in titles(session, people["bo"])
    inc_a = get_postmortem(session, key="inc-a").postmortem
    renamed = {f"participants.{inc_a.participants[0].id}.team": "billing"}
    change("inc-a", renamed)
    assert titles(session, root, team="billing") == ["Rotate keys"]
    assert titles(session, root, team="payments") == []
    archive_incident(session, key="inc-a", author="root", actor=root)
    assert not {"Rotate keys", "Add alert"} & set(titles(session, root))
    assert titles(session, root, team="billing") == []
    unarchive_incident(session, key="inc-a", author="root", actor=root)
    assert titles(session, root, team="billing") == ["Rotate keys"]
