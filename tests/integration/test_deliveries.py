"""Sending deliveries to real receivers: e-mail to an SMTP server (aiosmtpd), Slack-compatible
and signed generic webhooks to an HTTP server; retries with a doubling delay, a permanent
failure marked failed, every attempt logged."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from hindsight.config import Settings
from hindsight.domain.access import Actor, Role
from hindsight.errors import InvalidInputError, PermissionDeniedError
from hindsight.services.database import Database, open_database
from hindsight.services.delivery import SIGNATURE_HEADER, attempt_delivery
from hindsight.services.notifications import add_channel, list_deliveries, notify_once
from hindsight.storage.models import DeliveryRow, UserRow
from tests.receivers import Hooks, Mailbox, smtp_server, webhook_receiver

NOW = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC)
ADMIN = Actor(0, "admin", "admin", Role.ADMIN)


@pytest.fixture(scope="module")
def shared(databases: Any, backend: str) -> Iterator[Database]:
    database = open_database(databases.new_url(backend))
    yield database
    database.dispose()


@pytest.fixture(scope="module")
def receivers() -> Iterator[tuple[Mailbox, int, Hooks, str]]:
    with smtp_server() as (mailbox, port), webhook_receiver() as (hooks, url):
        yield mailbox, port, hooks, url


def deliveries_for(database: Database, channels: list[tuple[str, str]]) -> list[int]:
    """A new person with these channels and one notification for them."""
    name = f"p{uuid.uuid4().hex[:8]}"
    with database.transaction() as session:
        row = UserRow(username=name, password_hash="-", role="editor", created_at=NOW)
        session.add(row)
        session.flush()
        actor = Actor(row.id, name, name, Role.EDITOR)
        for kind, target in channels:
            add_channel(session, actor=actor, kind=kind, target=target, now=NOW, allow_private=True)
        return notify_once(
            session,
            user_id=row.id,
            key="action:k:item:due-soon:2026-12-04",
            kind="action_due_soon",
            subject="Action item due on 2026-12-04: Add cert-expiry alert",
            body="Add cert-expiry alert\nhttps://hindsight.example/incidents/k#item",
            payload={"incident": "k", "url": "https://hindsight.example/incidents/k#item"},
            now=NOW,
        )


def state(database: Database, delivery_id: int) -> tuple[str, int, dt.datetime]:
    with database.reading() as session:
        row = session.get(DeliveryRow, delivery_id)
        assert row is not None
        return row.status, row.attempts, row.next_attempt_at


def test_an_email_reaches_the_smtp_server(shared: Database, receivers: Any) -> None:
    mailbox, port, _, _ = receivers
    settings = Settings(smtp_host="127.0.0.1", smtp_port=port, smtp_from="hs@example.org")
    address = f"{uuid.uuid4().hex[:8]}@example.org"
    [delivery] = deliveries_for(shared, [("email", address)])
    assert attempt_delivery(shared, settings, delivery, NOW) is None
    [mail] = [m for m in mailbox.messages if m["To"] == address]
    assert mail["X-Hindsight-Delivery"] == str(delivery) and mail["From"] == "hs@example.org"
    assert "cert-expiry" in mail["Subject"] and "incidents/k#item" in mail.get_payload()
    assert state(shared, delivery)[:2] == ("sent", 1)
    assert attempt_delivery(shared, settings, delivery, NOW) is None  # sent: never again
    assert len([m for m in mailbox.messages if m["To"] == address]) == 1


def test_a_signed_webhook_that_fails_twice_arrives_on_the_third_try_with_backoff(
    shared: Database, receivers: Any
) -> None:
    _, _, hooks, url = receivers
    path = f"/flaky-{uuid.uuid4().hex[:8]}"
    hooks.fail[path] = 2
    settings = Settings(delivery_retry_seconds=30, webhook_allow_private=True)
    [delivery] = deliveries_for(shared, [("webhook", f"{url}{path}")])
    delays = [attempt_delivery(shared, settings, delivery, NOW) for _ in range(3)]
    assert delays == [30.0, 60.0, None]
    assert state(shared, delivery)[:2] == ("sent", 3)
    arrived = hooks.to(path)
    assert len(arrived) == 3 and arrived[0].body == arrived[2].body
    with shared.reading() as session:
        from hindsight.storage.models import ChannelRow

        secret = session.query(ChannelRow.secret).filter(ChannelRow.kind == "webhook").all()
    expected = {
        "sha256=" + hmac.new(s.encode(), arrived[2].body, hashlib.sha256).hexdigest()
        for (s,) in secret
    }
    assert arrived[2].header(SIGNATURE_HEADER) in expected
    document = arrived[2].json()
    assert document["event"] == "action_due_soon" and document["data"]["incident"] == "k"
    [logged] = [d for d in list_deliveries_all(shared) if d.id == delivery]
    assert [(a.ok, a.status_code) for a in logged.attempts] == [
        (False, 500),
        (False, 500),
        (True, 200),
    ]
    assert logged.attempts[0].response == "receiver down"


def list_deliveries_all(database: Database) -> list[Any]:
    with database.reading() as session:
        items, _ = list_deliveries(session, actor=ADMIN, limit=500)
    return items


def test_a_receiver_that_always_fails_is_marked_failed_after_the_last_try(
    shared: Database, receivers: Any
) -> None:
    _, _, hooks, url = receivers
    path = f"/down-{uuid.uuid4().hex[:8]}"
    hooks.broken.add(path)
    settings = Settings(
        delivery_retry_seconds=1, delivery_max_attempts=3, webhook_allow_private=True
    )
    [delivery] = deliveries_for(shared, [("slack", f"{url}{path}")])
    delays = [attempt_delivery(shared, settings, delivery, NOW) for _ in range(4)]
    assert delays == [1.0, 2.0, None, None]  # the fourth finds it failed and sends nothing
    status, attempts, _ = state(shared, delivery)
    assert (status, attempts, len(hooks.to(path))) == ("failed", 3, 3)
    assert "*Action item due" in hooks.to(path)[0].json()["text"]
    with shared.reading() as session:
        failed, total = list_deliveries(session, actor=ADMIN, status="failed")
    assert delivery in [d.id for d in failed] and total >= 1
    shown = next(d for d in failed if d.id == delivery)
    assert shown.target.endswith("/…") and path not in shown.target  # a webhook's path is secret


def test_an_unreachable_smtp_server_is_a_logged_failure(shared: Database) -> None:
    settings = Settings(smtp_host="127.0.0.1", smtp_port=1, delivery_max_attempts=1)
    [delivery] = deliveries_for(shared, [("email", "ana@example.org")])
    assert attempt_delivery(shared, settings, delivery, NOW) is None
    assert state(shared, delivery)[0] == "failed"
    [logged] = [d for d in list_deliveries_all(shared) if d.id == delivery]
    assert "refused" in logged.attempts[0].response.lower()


def test_a_notification_is_made_once_and_only_admins_read_the_log(shared: Database) -> None:
    first = deliveries_for(shared, [("email", "a@example.org"), ("slack", "https://h.example/x")])
    assert len(first) == 2
    with shared.transaction() as session:
        from hindsight.storage.models import NotificationRow

        again = session.get(NotificationRow, session.get(DeliveryRow, first[0]).notification_id)  # type: ignore[union-attr]
        assert again is not None
        repeat = notify_once(
            session,
            user_id=again.user_id,
            key=again.key,
            kind=again.kind,
            subject="twice?",
            body="",
            payload={},
            now=NOW,
        )
        assert repeat == []
        with pytest.raises(PermissionDeniedError):
            list_deliveries(session, actor=Actor(1, "ed", "ed", Role.EDITOR))


def test_a_webhook_to_a_private_address_is_refused_at_save_and_at_delivery(
    shared: Database, receivers: Any
) -> None:
    """Saved with the admin's allowance (HINDSIGHT_WEBHOOK_ALLOW_PRIVATE), then delivered by a
    worker without it: not sent, and the log says why; with it, it arrives."""
    _, _, hooks, url = receivers
    with shared.transaction() as session:
        actor = Actor(1, "x", "x", Role.EDITOR)
        with pytest.raises(InvalidInputError, match=r"target: host '127\.0\.0\.1' is a loopback"):
            add_channel(session, actor=actor, kind="webhook", target=f"{url}/x", now=NOW)
        with pytest.raises(InvalidInputError, match=r"target: host '169\.254\.169\.254' is a link"):
            add_channel(
                session, actor=actor, kind="slack", target="http://169.254.169.254/", now=NOW
            )
    path = f"/inside-{uuid.uuid4().hex[:8]}"
    [delivery] = deliveries_for(shared, [("webhook", f"{url}{path}")])
    refused = Settings(delivery_max_attempts=2)
    assert attempt_delivery(shared, refused, delivery, NOW) is not None
    assert hooks.to(path) == []
    [logged] = [d for d in list_deliveries_all(shared) if d.id == delivery]
    assert logged.attempts[0].response.startswith("not sent: target: host '127.0.0.1' is a")
    allowed = Settings(delivery_max_attempts=2, webhook_allow_private=True)
    assert attempt_delivery(shared, allowed, delivery, NOW) is None
    assert len(hooks.to(path)) == 1 and state(shared, delivery)[0] == "sent"


def test_a_redirect_answer_is_logged_and_not_followed(shared: Database) -> None:
    import http.server
    import threading

    followed: list[str] = []

    class Redirect(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            if self.path == "/inside":
                followed.append(self.path)
            self.send_response(307)
            self.send_header("Location", "/inside")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        [delivery] = deliveries_for(shared, [("webhook", f"{base}/hook")])
        settings = Settings(delivery_max_attempts=1, webhook_allow_private=True)
        assert attempt_delivery(shared, settings, delivery, NOW) is None
    finally:
        server.shutdown()
        server.server_close()
    assert followed == []
    [logged] = [d for d in list_deliveries_all(shared) if d.id == delivery]
    assert (logged.status, logged.attempts[0].status_code) == ("failed", 307)
