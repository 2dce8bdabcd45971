"""`Database.is_up` (what `/healthz` answers): callers at the same time share checks, and no
caller is given the answer of a check that began before it asked."""

from __future__ import annotations

import threading
import time

import pytest

from hindsight.services.database import Database


def test_the_real_database_answers(database: Database) -> None:
    assert database.is_up() and database.is_up()


def test_callers_one_after_another_each_run_a_check(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = iter([True, False, True])
    monkeypatch.setattr(database, "_answers", lambda: next(answers))
    assert [database.is_up() for _ in range(3)] == [True, False, True]


def test_callers_during_a_check_share_the_next_one_not_the_one_under_way(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[int] = []
    release = threading.Event()
    first_running = threading.Event()

    def check() -> bool:
        started.append(len(started) + 1)
        if len(started) == 1:
            first_running.set()
            release.wait(10)
            return False  # the first check: the database was down when it began
        time.sleep(0.05)
        return True

    monkeypatch.setattr(database, "_answers", check)
    answers: dict[str, bool] = {}
    first = threading.Thread(target=lambda: answers.update(first=database.is_up()))
    first.start()
    assert first_running.wait(10)
    waiting = [
        threading.Thread(target=lambda n=n: answers.update({f"w{n}": database.is_up()}))
        for n in range(10)
    ]
    for thread in waiting:
        thread.start()
    time.sleep(0.1)  # every waiter has asked while the first check runs
    release.set()
    for thread in [first, *waiting]:
        thread.join(10)
    assert answers.pop("first") is False
    # Ten callers, one more check: each was answered by a check that began after it asked.
    assert started == [1, 2]
    assert answers == {f"w{n}": True for n in range(10)}
