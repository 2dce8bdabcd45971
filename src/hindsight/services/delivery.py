"""Sending one delivery: e-mail over SMTP, a Slack-compatible incoming webhook, or a generic
webhook signed with HMAC-SHA256; every attempt and its answer is logged, failures retried with
a doubling delay until the last attempt, after which the delivery is marked failed.

A delivery is sent by whoever moves it from `pending` to `sending` (one conditional UPDATE,
committed before anything is sent), so a job that two workers pick up, or a retry that races a
sweep, sends it once. A worker that dies while sending leaves it `sending`: it is not sent
again (at most once), and the log shows it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import smtplib
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from sqlalchemy import update

from hindsight.config import Settings
from hindsight.errors import InvalidInputError
from hindsight.services.database import Database
from hindsight.services.outbound import check_outbound_url
from hindsight.storage.models import ChannelRow, DeliveryAttemptRow, DeliveryRow, NotificationRow

SIGNATURE_HEADER = "X-Hindsight-Signature-256"
RESPONSE_LIMIT = 2000


@dataclass(frozen=True)
class Outcome:
    """What the other side answered."""

    ok: bool
    status_code: int | None
    response: str


@dataclass(frozen=True)
class Message:
    """What a delivery sends, read from its notification."""

    delivery_id: int
    kind: str
    target: str
    secret: str
    notification_kind: str
    subject: str
    body: str
    payload: dict[str, object]


def retry_delay(settings: Settings, attempts: int) -> float:
    """Seconds to wait before the try after `attempts` failed ones: doubling each time."""
    return float(settings.delivery_retry_seconds * 2 ** max(attempts - 1, 0))


def sign(secret: str, body: bytes) -> str:
    """The signature header's value: `sha256=` and the hex HMAC-SHA256 of the body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _claim(database: Database, delivery_id: int, now: dt.datetime) -> Message | None:
    """Move the delivery to `sending` if it is pending; None if someone else has it. (When a
    retry is due is the queue's schedule; `next_attempt_at` shows it in the log.)"""
    with database.transaction() as session:
        claimed = session.execute(
            update(DeliveryRow)
            .where(DeliveryRow.id == delivery_id, DeliveryRow.status == "pending")
            .values(status="sending", attempts=DeliveryRow.attempts + 1, updated_at=now)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return None
        delivery = session.get(DeliveryRow, delivery_id)
        assert delivery is not None
        notification = session.get(NotificationRow, delivery.notification_id)
        assert notification is not None
        channel = session.get(ChannelRow, delivery.channel_id) if delivery.channel_id else None
        return Message(
            delivery.id,
            delivery.kind,
            delivery.target,
            channel.secret if channel else "",
            notification.kind,
            notification.subject,
            notification.body,
            dict(notification.payload),
        )


def _send_email(settings: Settings, message: Message) -> Outcome:
    if not settings.smtp_host:
        return Outcome(False, None, "no SMTP server is configured (HINDSIGHT_SMTP_HOST)")
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = settings.smtp_from, message.target, message.subject
    mail["X-Hindsight-Delivery"] = str(message.delivery_id)
    mail.set_content(message.body)
    timeout = settings.delivery_timeout_seconds
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password)
            refused = smtp.send_message(mail)
            status, answer = smtp.noop()
    except (smtplib.SMTPException, OSError) as error:
        code = getattr(error, "smtp_code", None)
        return Outcome(False, code if isinstance(code, int) else None, str(error))
    if refused:
        return Outcome(False, None, f"refused: {refused}")
    return Outcome(True, 250, f"accepted ({status} {answer.decode(errors='replace')})")


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A 3xx answer is the answer (logged as a failure), not a new address to send to."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def _post(settings: Settings, url: str, body: bytes, headers: dict[str, str]) -> Outcome:
    try:
        # Again at delivery: the host may resolve elsewhere than when the channel was saved.
        check_outbound_url(
            url,
            field="target",
            allow_private=settings.webhook_allow_private,
            must_resolve=True,
        )
    except InvalidInputError as error:
        return Outcome(False, None, f"not sent: {error}")
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with _OPENER.open(request, timeout=settings.delivery_timeout_seconds) as answer:
            text = answer.read(RESPONSE_LIMIT).decode(errors="replace")
            return Outcome(200 <= answer.status < 300, answer.status, text)
    except urllib.error.HTTPError as error:
        return Outcome(False, error.code, error.read(RESPONSE_LIMIT).decode(errors="replace"))
    except (urllib.error.URLError, OSError, ValueError) as error:
        return Outcome(False, None, str(getattr(error, "reason", error)))


def _send(settings: Settings, message: Message, now: dt.datetime) -> Outcome:
    if message.kind == "email":
        return _send_email(settings, message)
    link = str(message.payload.get("url", ""))
    if message.kind == "slack":
        text = f"*{message.subject}*\n{message.body}" + (f"\n<{link}>" if link else "")
        body = json.dumps({"text": text}).encode()
        return _post(settings, message.target, body, {"Content-Type": "application/json"})
    document = {
        "delivery": message.delivery_id,
        "event": message.notification_kind,
        "subject": message.subject,
        "body": message.body,
        "data": message.payload,
        "sent_at": now.isoformat(),
    }
    body = json.dumps(document, sort_keys=True).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Hindsight",
        "X-Hindsight-Event": message.notification_kind,
        "X-Hindsight-Delivery": str(message.delivery_id),
        SIGNATURE_HEADER: sign(message.secret, body),
    }
    return _post(settings, message.target, body, headers)


def attempt_delivery(
    database: Database, settings: Settings, delivery_id: int, now: dt.datetime
) -> float | None:
    """Try the delivery once if it is ours to send; the seconds until the next try when it
    failed and tries remain, else None (sent, failed for good, or not ours).

    Steps: claim (commit), send (no transaction open), record the attempt and the new status
    (commit)."""
    message = _claim(database, delivery_id, now)
    if message is None:
        return None
    outcome = _send(settings, message, now)
    with database.transaction() as session:
        delivery = session.get(DeliveryRow, delivery_id)
        assert delivery is not None
        session.add(
            DeliveryAttemptRow(
                delivery_id=delivery_id,
                at=now,
                ok=outcome.ok,
                status_code=outcome.status_code,
                response=outcome.response[:RESPONSE_LIMIT],
            )
        )
        delay: float | None = None
        if outcome.ok:
            delivery.status = "sent"
        elif delivery.attempts >= settings.delivery_max_attempts:
            delivery.status = "failed"
        else:
            delay = retry_delay(settings, delivery.attempts)
            delivery.status = "pending"
            delivery.next_attempt_at = now + dt.timedelta(seconds=delay)
        delivery.updated_at = now
    return delay
