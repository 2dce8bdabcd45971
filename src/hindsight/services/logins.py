"""Signing in and changing one's password, with limits on guessing that cannot be turned
against the real user.

Limits, over the failures of the last `FAILURE_WINDOW`:
- per account: after `FREE_FAILURES` failures the next try waits 1 s, then 2 s, 4 s… up to
  `MAX_DELAY` after the latest failure: a delay, never a lockout;
- per address: `ADDRESS_LIMIT` failures from one address (any account) stop it until the
  oldest of them leaves the window;
- a browser that has signed in to the account before shows its device cookie
  (`device_token`): it is exempt from the address limit, and its account delay counts only
  failures from its own address, so guessing from elsewhere never delays it.

Argon2 runs in a worker thread and outside any transaction, so neither the event loop nor
SQLite's write lock waits for it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from anyio import to_thread
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from hindsight.domain.access import Actor
from hindsight.errors import HindsightError
from hindsight.services.accounts import (
    AuthenticationError,
    get_actor,
    password_hash_of,
    signing_secret,
    store_password_hash,
)
from hindsight.services.database import Database
from hindsight.services.incidents import utc_now
from hindsight.services.passwords import (
    MAX_PASSWORD_LENGTH,
    check_password_policy,
    hash_password,
    needs_rehash,
    password_matches,
)
from hindsight.services.sessions import SessionLimits, purge_expired_sessions, start_session
from hindsight.storage.models import LoginFailureRow, UserRow

FAILURE_WINDOW = dt.timedelta(minutes=15)
FREE_FAILURES = 3
MAX_DELAY = dt.timedelta(seconds=60)
ADDRESS_LIMIT = 20


# Argon2 takes 64 MiB and tens of milliseconds of CPU per hash: at most two at a time per
# process, so a burst of sign-ins queues (in worker threads, never on the event loop) instead
# of taking the memory of all of them at once.
HASHER_SLOTS = 2
_HASHER = threading.BoundedSemaphore(HASHER_SLOTS)
R = TypeVar("R")


def _one_at_a_time(function: Callable[..., R], *args: Any) -> R:
    """Run a password hash or check when one of the hasher's slots is free."""
    with _HASHER:
        return function(*args)


class RateLimitedError(HindsightError):
    """Too many failed sign-ins; `retry_after` seconds until the next try is accepted."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class SignedIn:
    """A new session: the account, the secret for the session cookie, the device cookie."""

    actor: Actor
    session_secret: str
    device: str


def device_token(session: Session, *, user_id: int) -> str:
    """The device cookie for a browser that signed in to this account."""
    key = signing_secret(session).encode()
    mac = hmac.new(key, f"device:{user_id}".encode(), hashlib.sha256).hexdigest()[:32]
    return f"{user_id}.{mac}"


def _trusted_device(session: Session, username: str, device: str | None) -> bool:
    if not device or "." not in device:
        return False
    user_id = session.scalar(select(UserRow.id).where(UserRow.username == username))
    return user_id is not None and hmac.compare_digest(
        device, device_token(session, user_id=user_id)
    )


def _seconds(delta: dt.timedelta) -> int:
    return max(1, int(delta.total_seconds() + 0.999))


def _account_wait(failures: list[dt.datetime], now: dt.datetime) -> dt.timedelta:
    if len(failures) < FREE_FAILURES:
        return dt.timedelta(0)
    delay = min(dt.timedelta(seconds=2 ** (len(failures) - FREE_FAILURES)), MAX_DELAY)
    return max(dt.timedelta(0), failures[-1] + delay - now)


def check_login_allowed(
    session: Session,
    *,
    username: str,
    address: str,
    device: str | None = None,
    now: dt.datetime | None = None,
) -> None:
    """Refuse a sign-in attempt that comes too soon (see the module's limits)."""
    now = now or utc_now()
    rows = session.execute(
        select(LoginFailureRow.username, LoginFailureRow.address, LoginFailureRow.at).where(
            LoginFailureRow.at >= now - FAILURE_WINDOW,
            (LoginFailureRow.username == username) | (LoginFailureRow.address == address),
        )
    ).all()
    trusted = _trusted_device(session, username, device)
    from_here = sorted(at for _, where, at in rows if where == address)
    if not trusted and len(from_here) >= ADDRESS_LIMIT:
        wait = from_here[-ADDRESS_LIMIT] + FAILURE_WINDOW - now
        raise RateLimitedError(
            "too many failed sign-ins from this address; try again in "
            f"{max(1, _seconds(wait) // 60)} minute(s)",
            _seconds(wait),
        )
    on_account = sorted(
        at for name, where, at in rows if name == username and (where == address or not trusted)
    )
    wait = _account_wait(on_account, now)
    if wait > dt.timedelta(0):
        seconds = _seconds(wait)
        raise RateLimitedError(
            f"too many failed sign-ins for this account; wait {seconds} second"
            f"{'' if seconds == 1 else 's'} and try again",
            seconds,
        )


def record_login_failure(
    session: Session, *, username: str, address: str, now: dt.datetime | None = None
) -> None:
    """Remember a failed attempt (its own transaction must commit even though login failed)."""
    session.add(LoginFailureRow(username=username[:80], address=address[:64], at=now or utc_now()))
    session.flush()


def _verify(password_hash: str | None, password: str) -> tuple[bool, str | None]:
    """Whether the password matches, and a new hash when the stored one is outdated."""
    if len(password) > MAX_PASSWORD_LENGTH:
        password_matches(None, password[:MAX_PASSWORD_LENGTH])  # same time as any other try
        return False, None
    if not password_matches(password_hash, password):
        return False, None
    assert password_hash is not None
    return True, hash_password(password) if needs_rehash(password_hash) else None


async def _check_credentials(
    database: Database,
    *,
    username: str,
    password: str,
    address: str,
    device: str | None,
) -> tuple[int, str | None]:
    """Steps: 1. a read: refuse if throttled, load the hash; 2. verify in a worker thread;
    3. on failure record it (its own transaction) and raise. Returns the id and any rehash."""
    with database.reading() as session:
        check_login_allowed(session, username=username, address=address, device=device)
        found = password_hash_of(session, username=username)
    ok, rehashed = await to_thread.run_sync(
        _one_at_a_time, _verify, found[1] if found else None, password
    )
    if not ok or found is None:
        with database.transaction() as session:
            record_login_failure(session, username=username, address=address)
        raise AuthenticationError("wrong username or password")
    return found[0], rehashed


async def sign_in(
    database: Database,
    *,
    username: str,
    password: str,
    address: str,
    user_agent: str,
    limits: SessionLimits,
    device: str | None = None,
) -> SignedIn:
    """Check the credentials (within the limits) and start a session for them."""
    user_id, rehashed = await _check_credentials(
        database, username=username, password=password, address=address, device=device
    )
    with database.transaction() as session:
        if rehashed:
            row = session.get(UserRow, user_id)
            if row is not None:
                row.password_hash = rehashed
        session.execute(delete(LoginFailureRow).where(LoginFailureRow.username == username))
        purge_expired_sessions(session, limits=limits)
        actor = get_actor(session, user_id=user_id)
        if actor is None:  # disabled between the two transactions
            raise AuthenticationError("wrong username or password")
        secret = start_session(session, user_id=user_id, user_agent=user_agent, address=address)
        return SignedIn(actor, secret, device_token(session, user_id=user_id))


@dataclass(frozen=True)
class PasswordChanged:
    """The new session of the browser that changed the password, and the tokens revoked."""

    session_secret: str
    tokens_revoked: int


async def change_password(
    database: Database,
    *,
    actor: Actor,
    current: str,
    new: str,
    address: str,
    user_agent: str,
    device: str | None = None,
) -> PasswordChanged:
    """Change the actor's own password: the current one is checked like a sign-in; then every
    session ends and every API token is revoked, and this browser gets a new session."""
    check_password_policy(new, username=actor.username)
    await _check_credentials(
        database, username=actor.username, password=current, address=address, device=device
    )
    new_hash = await to_thread.run_sync(_one_at_a_time, hash_password, new)
    with database.transaction() as session:
        revoked = store_password_hash(session, username=actor.username, password_hash=new_hash)
        secret = start_session(session, user_id=actor.id, user_agent=user_agent, address=address)
    return PasswordChanged(secret, revoked)
