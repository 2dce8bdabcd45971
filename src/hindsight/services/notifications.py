"""Notification channels a person chooses in Settings, notifications made once per person and
key, and the delivery log admins read."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from hindsight.domain.access import Actor, Role
from hindsight.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from hindsight.services.outbound import check_outbound_url
from hindsight.storage.models import (
    ChannelRow,
    DeliveryAttemptRow,
    DeliveryRow,
    NotificationRow,
    UserRow,
)

CHANNEL_KINDS = {
    "email": "E-mail",
    "slack": "Slack-compatible incoming webhook",
    "webhook": "Webhook (JSON, signed)",
}
MAX_CHANNELS = 10
_EMAIL = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")


@dataclass(frozen=True)
class ChannelInfo:
    """A channel as its owner sees it (the webhook's signing secret included)."""

    id: int
    kind: str
    target: str
    secret: str
    created_at: dt.datetime


def _check_target(kind: str, target: str, *, allow_private: bool) -> str:
    value = target.strip()
    if kind not in CHANNEL_KINDS:
        choices = ", ".join(CHANNEL_KINDS)
        raise InvalidInputError(f"kind: {kind!r} is not a channel; choose one of {choices}")
    if not value or len(value) > 500:
        raise InvalidInputError("target: give an address or URL of at most 500 characters")
    if kind == "email":
        if not _EMAIL.match(value):
            raise InvalidInputError(
                f"target: {value!r} is not an e-mail address (name@example.org)"
            )
        return value
    return check_outbound_url(value, field="target", allow_private=allow_private)


def add_channel(
    session: Session,
    *,
    actor: Actor,
    kind: str,
    target: str,
    now: dt.datetime,
    allow_private: bool = False,
) -> ChannelInfo:
    """Add a channel for `actor`; webhooks get a new signing secret. A webhook URL must be
    one Hindsight may send to (services/outbound.py); `allow_private` is the admin's
    HINDSIGHT_WEBHOOK_ALLOW_PRIVATE."""
    value = _check_target(kind, target, allow_private=allow_private)
    count = session.scalar(select(func.count(ChannelRow.id)).where(ChannelRow.user_id == actor.id))
    if (count or 0) >= MAX_CHANNELS:
        raise InvalidInputError(f"you have {MAX_CHANNELS} channels already; remove one first")
    secret = secrets.token_urlsafe(32) if kind == "webhook" else ""
    row = ChannelRow(user_id=actor.id, kind=kind, target=value, secret=secret, created_at=now)
    session.add(row)
    session.flush()
    return ChannelInfo(row.id, row.kind, row.target, row.secret, row.created_at)


def list_channels(session: Session, *, actor: Actor) -> list[ChannelInfo]:
    """`actor`'s own channels, oldest first."""
    rows = session.scalars(
        select(ChannelRow).where(ChannelRow.user_id == actor.id).order_by(ChannelRow.id)
    )
    return [ChannelInfo(r.id, r.kind, r.target, r.secret, r.created_at) for r in rows]


def remove_channel(session: Session, *, actor: Actor, channel_id: int) -> None:
    """Remove one of `actor`'s channels (its past deliveries stay in the log)."""
    row = session.get(ChannelRow, channel_id)
    if row is None or row.user_id != actor.id:
        raise NotFoundError(f"you have no channel {channel_id}")
    session.delete(row)
    session.flush()


def channels_of(session: Session, user_id: int) -> list[ChannelRow]:
    """The channels a notification for `user_id` goes to."""
    return list(session.scalars(select(ChannelRow).where(ChannelRow.user_id == user_id)))


def notify_once(
    session: Session,
    *,
    user_id: int,
    key: str,
    kind: str,
    subject: str,
    body: str,
    payload: dict[str, Any],
    now: dt.datetime,
) -> list[int]:
    """Make the notification `key` for `user_id` and a delivery per channel, unless it exists;
    the ids of the new deliveries (none if it existed).

    The insert skips a conflicting (user, key) row inside the database, so two workers or web
    processes finding the same due reminder at the same moment make one notification between
    them: whoever inserts second gets no row back and sends nothing.
    """
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(NotificationRow)
        .values(
            user_id=user_id,
            key=key[:200],
            kind=kind,
            subject=subject[:300],
            body=body,
            payload=payload,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["user_id", "key"])
        .returning(NotificationRow.id)
    )
    notification_id = session.scalar(statement)
    if notification_id is None:
        return []
    rows = [
        DeliveryRow(
            notification_id=notification_id,
            channel_id=channel.id,
            kind=channel.kind,
            target=channel.target,
            status="pending",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
            updated_at=now,
        )
        for channel in channels_of(session, user_id)
    ]
    session.add_all(rows)
    session.flush()
    return [row.id for row in rows]


def shown_target(kind: str, target: str) -> str:
    """A webhook URL without its path (Slack's carries the secret); e-mail addresses whole."""
    if kind == "email":
        return target
    parts = urlsplit(target)
    return f"{parts.scheme}://{parts.netloc}/…" if parts.path not in ("", "/") else target


@dataclass(frozen=True)
class AttemptInfo:
    at: dt.datetime
    ok: bool
    status_code: int | None
    response: str


@dataclass(frozen=True)
class DeliveryInfo:
    """One delivery in the admins' log, with every attempt and its answer."""

    id: int
    username: str
    subject: str
    notification_kind: str
    kind: str
    target: str
    status: str
    attempts: list[AttemptInfo]
    created_at: dt.datetime
    updated_at: dt.datetime


def list_deliveries(
    session: Session, *, actor: Actor, status: str | None = None, limit: int = 50, offset: int = 0
) -> tuple[list[DeliveryInfo], int]:
    """The delivery log, newest first, a page at a time (admins only): the subject line, not
    the body, so the log shows nothing of a restricted incident beyond its reminder's title."""
    if actor.role is not Role.ADMIN:
        raise PermissionDeniedError("only admins read the delivery log")
    query = select(DeliveryRow, NotificationRow, UserRow.username).join(
        NotificationRow, DeliveryRow.notification_id == NotificationRow.id
    )
    query = query.join(UserRow, NotificationRow.user_id == UserRow.id)
    counted = select(func.count(DeliveryRow.id))
    if status:
        query = query.where(DeliveryRow.status == status)
        counted = counted.where(DeliveryRow.status == status)
    total = int(session.scalar(counted) or 0)
    rows = session.execute(
        query.order_by(DeliveryRow.created_at.desc(), DeliveryRow.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    ids = [delivery.id for delivery, _, _ in rows]
    attempts: dict[int, list[AttemptInfo]] = {i: [] for i in ids}
    for attempt in session.scalars(
        select(DeliveryAttemptRow)
        .where(DeliveryAttemptRow.delivery_id.in_(ids))
        .order_by(DeliveryAttemptRow.id)
    ):
        attempts[attempt.delivery_id].append(
            AttemptInfo(attempt.at, attempt.ok, attempt.status_code, attempt.response)
        )
    items = [
        DeliveryInfo(
            d.id,
            username,
            n.subject,
            n.kind,
            d.kind,
            shown_target(d.kind, d.target),
            d.status,
            attempts[d.id],
            d.created_at,
            d.updated_at,
        )
        for d, n, username in rows
    ]
    return items, total
