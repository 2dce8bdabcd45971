"""Two writers, one version: exactly one wins, the other gets a conflict, nothing is lost."""

from __future__ import annotations

import threading

from hindsight.domain.editing import set_field
from hindsight.errors import ConflictError
from hindsight.services.database import Database
from hindsight.services.incidents import get_postmortem, list_revisions, update_postmortem
from tests.factories import make_incident


def test_concurrent_updates_from_two_connections_let_exactly_one_win(
    fresh_database: Database,
) -> None:
    with fresh_database.transaction() as session:
        key = make_incident(session).postmortem.key
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def writer(title: str) -> None:
        barrier.wait()
        try:
            with fresh_database.transaction() as session:
                # Both writers read version 1 (as two browser tabs would) and then write.
                update_postmortem(
                    session,
                    key=key,
                    change=lambda pm: set_field(pm, "title", title),
                    author=title,
                    expected_version=1,
                )
            outcomes[title] = "saved"
        except ConflictError as error:
            outcomes[title] = f"conflict at version {error.current_version}"

    threads = [threading.Thread(target=writer, args=(name,)) for name in ("alice", "bob")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes.values()) == ["conflict at version 2", "saved"]
    [winner] = [name for name, outcome in outcomes.items() if outcome == "saved"]
    with fresh_database.transaction() as session:
        assert get_postmortem(session, key=key).postmortem.title == winner
        history = list_revisions(session, key=key)
    assert [(r.version, r.author) for r in history] == [(1, "tester"), (2, winner)]
    assert [(c.field, c.new) for c in history[1].changes] == [("title", winner)]


def test_two_sessions_that_both_read_before_writing_cannot_both_win(
    fresh_database: Database,
) -> None:
    """The lock-free path: a stale in-memory read is still caught by the versioned UPDATE."""
    with fresh_database.transaction() as session:
        key = make_incident(session).postmortem.key
    with fresh_database.transaction() as first:
        update_postmortem(
            first,
            key=key,
            change=lambda pm: set_field(pm, "title", "first"),
            author="first",
            expected_version=1,
        )
    try:
        with fresh_database.transaction() as second:
            update_postmortem(
                second,
                key=key,
                change=lambda pm: set_field(pm, "title", "late"),
                author="late",
                expected_version=1,
            )
        raise AssertionError("a stale write was accepted")
    except ConflictError as error:
        assert error.current_version == 2
    with fresh_database.transaction() as session:
        assert get_postmortem(session, key=key).postmortem.title == "first"
