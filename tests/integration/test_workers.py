"""Two `hindsight worker` processes and a clock moved forward: every due reminder and digest is
delivered once — counted at a real SMTP server and a real webhook receiver — none twice; a
receiver failing twice gets each delivery on the third try; one that always fails has its
deliveries marked failed in the log."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from hindsight.config import Settings
from hindsight.domain.access import Actor, Role
from hindsight.services.database import Database, open_database
from hindsight.services.jobs import JobQueue
from hindsight.services.notifications import add_channel
from hindsight.services.reminders import week_of
from hindsight.services.reviews import request_review
from hindsight.storage.models import DeliveryRow, UserRow
from tests.factories import make_incident
from tests.receivers import Hooks, Mailbox, smtp_server, webhook_receiver

T = dt.datetime(2030, 1, 2, 9, 0, tzinfo=dt.UTC)  # a Wednesday
MOMENTS = [T + dt.timedelta(days=d) for d in (0, 1, 5, 12)]  # three ISO weeks
DEADLINE = 90.0


def _item(title: str, owner: str, days: int) -> dict[str, str]:
    return {"title": title, "owner": owner, "due": (T + dt.timedelta(days=days)).date().isoformat()}


def _seed(database: Database, url: str) -> None:
    """ana (e-mail) owns an item due in 3 days, bo (webhook failing twice per delivery) one due
    tomorrow, cy (webhook always failing) one due in 2 days, rita (e-mail) has a review
    waiting, dan (e-mail) owns an item of a restricted incident he may not see."""
    channels = {
        "ana": ("email", "ana@example.org"),
        "bo": ("webhook", f"{url}/bo"),
        "cy": ("slack", f"{url}/cy"),
        "rita": ("email", "rita@example.org"),
        "dan": ("email", "dan@example.org"),
    }
    with database.transaction() as session:
        actors = {}
        for name, (kind, target) in channels.items():
            row = UserRow(username=name, password_hash="-", role="editor", created_at=T)
            session.add(row)
            session.flush()
            actors[name] = Actor(row.id, name, name, Role.EDITOR)
            add_channel(
                session,
                actor=actors[name],
                kind=kind,
                target=target,
                now=T,
                allow_private=True,  # the receivers listen on 127.0.0.1
            )
        items = [_item("Alert on cert expiry", "Ana", 3), _item("Canary configs", "bo", 1)]
        items.append(_item("Lint configs", "cy", 2))
        make_incident(session, key="2030-01-01-checkout", action_items=items)
        secret = [_item("Rotate the leaked key", "dan", 2)]
        make_incident(session, key="2030-01-01-leak", visibility="restricted", action_items=secret)
        request_review(
            session,
            key="2030-01-01-checkout",
            actor=actors["ana"],
            reviewers=["rita"],
            now=T - dt.timedelta(days=1),
        )


@pytest.fixture
def world(
    databases: Any, backend: str, tmp_path: Path
) -> Iterator[tuple[Database, Mailbox, Hooks, list[subprocess.Popen[bytes]]]]:
    database = open_database(databases.new_url(backend))
    url = database.engine.url.render_as_string(hide_password=False)
    with smtp_server() as (mailbox, port), webhook_receiver() as (hooks, base):
        hooks.fail_each["/bo"] = 2
        hooks.broken.add("/cy")
        _seed(database, base)
        env = os.environ | {
            "HINDSIGHT_DATABASE_URL": url,
            "HINDSIGHT_DATA_DIR": str(tmp_path),
            "HINDSIGHT_SMTP_HOST": "127.0.0.1",
            "HINDSIGHT_SMTP_PORT": str(port),
            # Retried at once here: the doubling delays are test_deliveries.py's and
            # test_jobs.py's (a second here costs a second of the test).
            "HINDSIGHT_DELIVERY_RETRY_SECONDS": "0",
            "HINDSIGHT_DELIVERY_MAX_ATTEMPTS": "3",
            "HINDSIGHT_WORKER_POLL_SECONDS": "0.2",
            "HINDSIGHT_WEBHOOK_ALLOW_PRIVATE": "1",  # the receivers listen on 127.0.0.1
        }
        command = [sys.executable, "-m", "hindsight", "worker", "--threads", "3", "--no-periodic"]
        workers = [
            subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            for _ in range(2)
        ]
        try:
            yield database, mailbox, hooks, workers
        finally:
            for worker in workers:
                worker.send_signal(signal.SIGINT)
            for worker in workers:
                worker.wait(timeout=30)
            database.dispose()


def _settled(database: Database, queue: JobQueue) -> bool:
    with database.reading() as session:
        open_ = session.scalar(
            select(func.count(DeliveryRow.id)).where(DeliveryRow.status.in_(["pending", "sending"]))
        )
    return open_ == 0 and queue.pending() == 0


def test_two_workers_and_a_moved_clock_deliver_every_reminder_once(world: Any) -> None:
    database, mailbox, hooks, workers = world
    queue = JobQueue(database, Settings())
    for moment in MOMENTS:
        for _ in range(3):  # as the schedulers of several workers would, each minute
            queue.enqueue_periodic(moment)
    started = time.monotonic()
    waiter = threading.Event()
    while not _settled(database, queue):
        assert time.monotonic() - started < DEADLINE, "deliveries did not settle"
        assert all(w.poll() is None for w in workers), workers[0].stderr.read()
        waiter.wait(0.2)
    assert len({week_of(m) for m in MOMENTS}) == 3
    # E-mail, counted at the SMTP server: ana 3 reminders (due soon; overdue; a week later),
    # rita 1 review reminder, and 3 weekly digests each; dan only digests.
    mails = Counter((m["To"], m["Subject"].split(":")[0]) for m in mailbox.messages)
    assert mails == {
        ("ana@example.org", "Action item due on 2030-01-05 (in 3 day(s))"): 1,
        ("ana@example.org", "Action item overdue by 2 day(s)"): 1,
        ("ana@example.org", "Action item overdue by 9 day(s)"): 1,
        ("ana@example.org", "Hindsight weekly digest"): 3,
        ("rita@example.org", "Review waiting for you"): 1,
        ("rita@example.org", "Hindsight weekly digest"): 3,
        ("dan@example.org", "Hindsight weekly digest"): 3,
    }
    assert not any("leaked" in m.as_string() for m in mailbox.messages)
    # bo's receiver fails twice per delivery: each of 3 reminders + 3 digests on the third try.
    to_bo = Counter(r.header("X-Hindsight-Delivery") for r in hooks.to("/bo"))
    assert len(to_bo) == 6 and set(to_bo.values()) == {3}
    events = Counter(r.json()["event"] for r in hooks.to("/bo") if r.json())
    assert events == {"action_due_soon": 3, "action_overdue": 6, "weekly_digest": 9}
    # cy's receiver always fails: 6 deliveries, 3 tries each, all marked failed.
    assert len(hooks.to("/cy")) == 18
    with database.reading() as session:
        statuses = Counter(
            session.execute(
                select(DeliveryRow.kind, DeliveryRow.status, DeliveryRow.attempts)
            ).all()
        )
    assert statuses == {
        ("email", "sent", 1): 13,
        ("webhook", "sent", 3): 6,
        ("slack", "failed", 3): 6,
    }
