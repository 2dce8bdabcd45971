"""Settings → Notifications: choosing channels; the admins' delivery log."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from hindsight.config import Settings
from hindsight.services.accounts import list_users
from hindsight.services.database import Database
from hindsight.services.delivery import attempt_delivery
from hindsight.services.notifications import list_channels, notify_once
from tests.web.conftest import Browser

Make = Callable[[str | None], Browser]


def test_a_person_adds_a_channel_a_bad_one_is_refused_and_removes_it(
    browser_for: Make, app_database: Database
) -> None:
    client = browser_for("reader")  # viewers get reminders too
    assert "choose your channels" in client.page("/settings")
    assert "No channels yet" in client.page("/settings/notifications")
    bad = client.submit("/settings/notifications/channels", {"kind": "email", "target": "ana at x"})
    assert bad.status_code == 422  # type: ignore[attr-defined]
    assert "target: &#39;ana at x&#39; is not an e-mail address" in bad.text  # type: ignore[attr-defined]
    assert 'value="ana at x"' in bad.text  # type: ignore[attr-defined]  # kept to fix
    with app_database.reading() as session:
        reader = next(a for a, _ in list_users(session) if a.username == "reader")
        assert list_channels(session, actor=reader) == []
    added = client.submit(
        "/settings/notifications/channels", {"kind": "webhook", "target": "https://h.example/in"}
    )
    assert added.headers["location"] == "/settings/notifications?added=1"  # type: ignore[attr-defined]
    page = client.page("/settings/notifications?added=1")
    assert "Channel added." in page and "https://h.example/in" in page
    with app_database.reading() as session:
        [channel] = list_channels(session, actor=reader)
    assert channel.secret in page  # the owner needs it to check signatures
    other = browser_for("outsider")
    other.page("/settings/notifications")
    refused = other.submit(f"/settings/notifications/channels/{channel.id}/remove")
    assert refused.status_code == 404  # type: ignore[attr-defined]
    client.page("/settings/notifications")
    client.submit(f"/settings/notifications/channels/{channel.id}/remove")
    assert "No channels yet" in client.page("/settings/notifications")


def test_admins_read_the_delivery_log_with_each_answer_and_others_may_not(
    browser_for: Make, app_database: Database
) -> None:
    now = dt.datetime.now(dt.UTC)
    client = browser_for("owner")
    client.page("/settings/notifications")
    client.submit(
        "/settings/notifications/channels", {"kind": "slack", "target": "http://h.invalid:1/x"}
    )
    with app_database.transaction() as session:
        owner = next(a for a, _ in list_users(session) if a.username == "owner")
        [delivery] = notify_once(
            session,
            user_id=owner.id,
            key="review:k:1",
            kind="review_waiting",
            subject="Review waiting for you: Checkout errors",
            body="…",
            payload={},
            now=now,
        )
    attempt_delivery(app_database, Settings(delivery_max_attempts=1), delivery, now)
    assert client.get("/admin/deliveries").status_code == 403
    boss = browser_for("boss")
    page = boss.page("/admin/deliveries?status=failed")
    assert "Review waiting for you: Checkout errors" in page and "status-failed" in page
    assert "http://h.invalid:1/…" in page and "/x<" not in page
    assert "could not be resolved" in page  # why it was not sent, as logged
    assert "No deliveries sent." in boss.page("/admin/deliveries?status=sent")
    assert boss.get("/admin/deliveries?status=lost").status_code == 422
