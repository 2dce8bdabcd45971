"""The job queue's storage in our database, and periodic jobs that run once per period however
many workers run them, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from hindsight.config import Settings
from hindsight.services.database import Database, open_database
from hindsight.services.jobs import hourly, run_periodic
from hindsight.storage.models import JobRunRow
from hindsight.storage.queue import DatabaseStorage

T0 = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def shared(databases: Any, backend: str) -> Iterator[Database]:
    """One migrated database for this module (migrating is the slow part); each test uses its
    own queue name and job names, so the tests do not see each other's rows."""
    database = open_database(databases.new_url(backend))
    yield database
    database.dispose()


@pytest.fixture(scope="module")
def second(shared: Database) -> Iterator[Database]:
    """Another connection pool on the same database, as a second process would have."""
    other = open_database(shared.engine.url.render_as_string(hide_password=False))
    yield other
    other.dispose()


def test_two_consumers_take_every_queued_job_exactly_once(
    shared: Database, second: Database
) -> None:
    first = DatabaseStorage("many", engine=shared.engine)
    jobs = [f"job-{n}".encode() for n in range(120)]
    for job in jobs:
        first.enqueue(job)
    assert first.queue_size() == 120
    taken: list[bytes] = []
    lock = threading.Lock()

    def consume(storage: DatabaseStorage) -> None:
        while (data := storage.dequeue()) is not None:
            with lock:
                taken.append(data)

    storages = [first, DatabaseStorage("many", engine=second.engine)] * 2
    threads = [threading.Thread(target=consume, args=(s,)) for s in storages]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(taken) == sorted(jobs) and first.queue_size() == 0


def test_higher_priority_jobs_go_first_and_the_schedule_releases_only_due_ones(
    shared: Database,
) -> None:
    storage = DatabaseStorage("order", engine=shared.engine)
    storage.enqueue(b"low")
    storage.enqueue(b"high", priority=10)
    assert [storage.dequeue(), storage.dequeue(), storage.dequeue()] == [b"high", b"low", None]
    now = dt.datetime.now()
    storage.add_to_schedule(b"later", now + dt.timedelta(hours=1))
    storage.add_to_schedule(b"due", now - dt.timedelta(seconds=1))
    assert storage.read_schedule(now) == [b"due"]
    assert storage.read_schedule(now) == [] and storage.schedule_size() == 1


def test_the_key_value_store_locks_and_counts(shared: Database) -> None:
    storage = DatabaseStorage("values", engine=shared.engine)
    assert storage.put_if_empty("lock", b"1") is True
    assert storage.put_if_empty("lock", b"2") is False
    storage.put_data("result", b"a")
    storage.put_data("result", b"b")
    assert storage.peek_data("result") == b"b" and storage.pop_data("result") == b"b"
    assert not storage.has_data_for_key("result")
    assert [storage.incr("n"), storage.incr("n", 4)] == [1, 5]


def test_a_periodic_job_runs_once_per_period_however_many_workers_run_it(
    shared: Database, second: Database
) -> None:
    runs: Counter[str] = Counter()
    lock = threading.Lock()

    def job(session: Session, settings: Settings, now: dt.datetime) -> list[int]:
        with lock:
            runs[hourly(now)] += 1
        return []

    jobs = {"count": (hourly, job)}
    moments = [T0 + dt.timedelta(minutes=m) for m in (0, 1, 59, 60, 61, 150)]
    ran: list[str] = []

    def worker(database: Database) -> None:
        for moment in moments:
            names, _ = run_periodic(database, Settings(), moment, jobs)
            with lock:
                ran.extend(names)

    threads = [threading.Thread(target=worker, args=(db,)) for db in [shared, second] * 3]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert runs == {"2026-12-02T09": 1, "2026-12-02T10": 1, "2026-12-02T11": 1}
    assert ran == ["count"] * 3
    with shared.reading() as session:
        rows = session.scalars(select(JobRunRow).where(JobRunRow.name == "count")).all()
        assert len(rows) == 3


def test_a_failed_periodic_job_gives_its_period_back(shared: Database) -> None:
    def broken(session: Session, settings: Settings, now: dt.datetime) -> list[int]:
        raise RuntimeError("smtp down")

    with pytest.raises(RuntimeError):
        run_periodic(shared, Settings(), T0, {"x": (hourly, broken)})
    names, _ = run_periodic(shared, Settings(), T0, {"x": (hourly, lambda *_: [])})
    assert names == ["x"]


def test_a_retry_waits_in_the_schedule_for_its_delay(shared: Database) -> None:
    from hindsight.services.jobs import JobQueue

    queue = JobQueue(shared, Settings())
    queue.huey.flush()
    queue.enqueue_delivery(123456, delay=60)
    task = queue.huey.dequeue()  # a worker takes it, sees its time and puts it in the schedule
    assert task.args == (123456,) and task.name == "deliver"
    assert task.eta > dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(seconds=55)


def test_the_reminders_command_queues_the_periodic_jobs_for_a_worker(shared: Database) -> None:
    from typer.testing import CliRunner

    from hindsight.cli.main import app
    from hindsight.services.jobs import JobQueue

    url = shared.engine.url.render_as_string(hide_password=False)
    queue = JobQueue(shared, Settings())
    queue.huey.flush()
    runner = CliRunner()
    bad = runner.invoke(app, ["--database-url", url, "reminders", "--at", "next monday"])
    assert bad.exit_code == 2
    assert "--at: 'next monday' is not a date and time" in bad.stderr and queue.pending() == 0
    done = runner.invoke(app, ["--database-url", url, "reminders", "--at", "2030-01-07T09:00"])
    assert done.exit_code == 0 and "2030-01-07T09:00:00+00:00" in done.stdout
    task = queue.huey.dequeue()
    assert task.name == "periodic_at" and task.args == ("2030-01-07T09:00:00+00:00",)


def test_deliveries_whose_job_was_lost_are_queued_again_once_ten_minutes_late(
    shared: Database,
) -> None:
    from hindsight.services.jobs import PERIODIC
    from hindsight.services.notifications import notify_once
    from hindsight.storage.models import ChannelRow, UserRow

    with shared.transaction() as session:
        user = UserRow(username="lost", password_hash="-", role="editor", created_at=T0)
        session.add(user)
        session.flush()
        session.add(ChannelRow(user_id=user.id, kind="email", target="l@x.org", created_at=T0))
        [old] = notify_once(
            session, user_id=user.id, key="a", kind="k", subject="s", body="", payload={}, now=T0
        )
        [new] = notify_once(
            session,
            user_id=user.id,
            key="b",
            kind="k",
            subject="s",
            body="",
            payload={},
            now=T0 + dt.timedelta(minutes=55),
        )
    jobs = {"lost-deliveries": PERIODIC["lost-deliveries"]}
    at = T0 + dt.timedelta(minutes=61)
    names, again = run_periodic(shared, Settings(), at, jobs)
    assert names == ["lost-deliveries"] and old in again and new not in again
    assert run_periodic(shared, Settings(), at + dt.timedelta(minutes=1), jobs) == ([], [])
