"""Server-side sessions: a row per signed-in browser, found by a hash of the secret its cookie
carries. Every web process reads the same rows, so ending a session (deleting its row) takes
effect everywhere on the next request; nothing is kept in memory."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from hindsight.errors import NotFoundError
from hindsight.services.incidents import utc_now
from hindsight.storage.models import UserSessionRow

# `last_seen_at` is written at most this often per session, so most requests only read.
TOUCH_PRECISION = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class SessionLimits:
    """How long a session lives: `idle` without a request, `lifetime` from sign-in."""

    idle: dt.timedelta
    lifetime: dt.timedelta

    def expired(self, created_at: dt.datetime, last_seen_at: dt.datetime, now: dt.datetime) -> bool:
        """Whether a session with these times has ended."""
        return now - last_seen_at > self.idle or now - created_at > self.lifetime


@dataclass(frozen=True)
class SessionInfo:
    """A session as listed in Settings (never its secret)."""

    id: int
    created_at: dt.datetime
    last_seen_at: dt.datetime
    user_agent: str
    address: str
    current: bool


def secret_digest(secret: str) -> str:
    """What the database keeps of a session secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


def start_session(
    session: Session, *, user_id: int, user_agent: str, address: str, now: dt.datetime | None = None
) -> str:
    """A new session for the account; returns the secret for the cookie (only its hash is
    stored)."""
    now = now or utc_now()
    secret = secrets.token_urlsafe(32)
    session.add(
        UserSessionRow(
            user_id=user_id,
            secret_hash=secret_digest(secret),
            created_at=now,
            last_seen_at=now,
            user_agent=user_agent[:200],
            address=address[:64],
        )
    )
    session.flush()
    return secret


def touch_session(session: Session, *, secret: str, now: dt.datetime | None = None) -> None:
    """Note that the session was used now (for the idle timeout and the Settings list)."""
    row = session.scalars(
        select(UserSessionRow).where(UserSessionRow.secret_hash == secret_digest(secret))
    ).one_or_none()
    if row is not None:
        row.last_seen_at = now or utc_now()


def end_session(session: Session, *, secret: str) -> None:
    """Sign one browser out (its cookie is refused from now on)."""
    session.execute(
        delete(UserSessionRow).where(UserSessionRow.secret_hash == secret_digest(secret))
    )


def end_session_by_id(session: Session, *, user_id: int, session_id: int) -> None:
    """End one of the account's own sessions (from the Settings list)."""
    row = session.get(UserSessionRow, session_id) if 0 < session_id < 2**31 else None
    if row is None or row.user_id != user_id:
        raise NotFoundError("no such session")
    session.delete(row)
    session.flush()


def end_user_sessions(session: Session, *, user_id: int) -> int:
    """End every session of the account; returns how many there were."""
    result = session.execute(delete(UserSessionRow).where(UserSessionRow.user_id == user_id))
    return int(getattr(result, "rowcount", 0) or 0)


def list_sessions(
    session: Session,
    *,
    user_id: int,
    limits: SessionLimits,
    current_secret: str | None = None,
    now: dt.datetime | None = None,
) -> list[SessionInfo]:
    """The account's live sessions, most recently used first."""
    now = now or utc_now()
    current = secret_digest(current_secret) if current_secret else None
    rows = session.scalars(
        select(UserSessionRow)
        .where(
            UserSessionRow.user_id == user_id,
            UserSessionRow.last_seen_at >= now - limits.idle,
            UserSessionRow.created_at >= now - limits.lifetime,
        )
        .order_by(UserSessionRow.last_seen_at.desc(), UserSessionRow.id.desc())
    )
    return [
        SessionInfo(
            r.id, r.created_at, r.last_seen_at, r.user_agent, r.address, r.secret_hash == current
        )
        for r in rows
    ]


def purge_expired_sessions(
    session: Session, *, limits: SessionLimits, now: dt.datetime | None = None
) -> None:
    """Delete the rows of sessions that have timed out (they are refused anyway)."""
    now = now or utc_now()
    session.execute(
        delete(UserSessionRow).where(
            or_(
                UserSessionRow.last_seen_at < now - limits.idle,
                UserSessionRow.created_at < now - limits.lifetime,
            )
        )
    )
