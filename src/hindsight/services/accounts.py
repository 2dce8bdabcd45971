"""Accounts, passwords, API tokens, failed-login limits and the application's signing secret."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from hindsight.domain.access import Actor, Role
from hindsight.domain.text import clean_line
from hindsight.domain.timeline import resolve_zone
from hindsight.errors import ConflictError, HindsightError, NotFoundError
from hindsight.services.incidents import utc_now
from hindsight.storage.models import ApiTokenRow, LoginFailureRow, SecretRow, UserRow

_HASHER = PasswordHasher()
MIN_PASSWORD_LENGTH = 10
MAX_FAILURES = 5
FAILURE_WINDOW = dt.timedelta(minutes=15)
TOKEN_PREFIX = "hs_"


class AuthenticationError(HindsightError):
    """Wrong username or password (deliberately not saying which)."""


class RateLimitedError(HindsightError):
    """Too many failed logins; `retry_after` seconds until the next try is accepted."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def _actor(row: UserRow) -> Actor:
    return Actor(
        row.id, row.username, row.display_name or row.username, Role(row.role), row.timezone
    )


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise HindsightError(
            f"password: must be at least {MIN_PASSWORD_LENGTH} characters; a short phrase works"
        )


def _check_username(username: str) -> str:
    try:
        value = clean_line(username, "username", required=True)
    except ValueError as error:
        raise HindsightError(str(error)) from None
    if len(value) > 80 or not all(c.isalnum() or c in "._-@" for c in value):
        raise HindsightError(
            f"username: {value!r} may use letters, digits and . _ - @ (at most 80 characters)"
        )
    return value


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: Role = Role.EDITOR,
    display_name: str = "",
) -> Actor:
    """Create an account; the password is stored as an Argon2id hash."""
    username = _check_username(username)
    _check_password(password)
    if session.scalar(select(UserRow.id).where(UserRow.username == username)):
        raise ConflictError(f"the username '{username}' is taken", 0)
    row = UserRow(
        username=username,
        display_name=display_name.strip(),
        role=Role(role),
        password_hash=_HASHER.hash(password),
        disabled=False,
        created_at=utc_now(),
    )
    session.add(row)
    session.flush()
    return _actor(row)


def list_users(session: Session) -> list[tuple[Actor, bool]]:
    """Every account with whether it is disabled, by username."""
    rows = session.scalars(select(UserRow).order_by(UserRow.username))
    return [(_actor(row), row.disabled) for row in rows]


def _user_row(session: Session, username: str) -> UserRow:
    row = session.scalars(select(UserRow).where(UserRow.username == username)).one_or_none()
    if row is None:
        raise NotFoundError(f"no account named '{username}'")
    return row


def set_disabled(session: Session, *, username: str, disabled: bool = True) -> None:
    """Disable (or re-enable) an account; a disabled account cannot sign in or use tokens."""
    _user_row(session, username).disabled = disabled
    session.flush()


def set_password(session: Session, *, username: str, password: str) -> None:
    """Replace an account's password."""
    _check_password(password)
    _user_row(session, username).password_hash = _HASHER.hash(password)
    session.flush()


def update_profile(session: Session, *, actor: Actor, display_name: str, timezone: str) -> Actor:
    """Change the signed-in account's display name and time zone."""
    try:
        resolve_zone(timezone)
        name = clean_line(display_name, "display_name")
    except ValueError as error:
        raise HindsightError(str(error)) from None
    row = _user_row(session, actor.username)
    row.display_name, row.timezone = name, timezone
    session.flush()
    return _actor(row)


def get_actor(session: Session, *, user_id: int) -> Actor | None:
    """The enabled account with this id, or None."""
    row = session.get(UserRow, user_id)
    return None if row is None or row.disabled else _actor(row)


def _recent_failures(
    session: Session, username: str, address: str, now: dt.datetime
) -> list[dt.datetime]:
    since = now - FAILURE_WINDOW
    query = select(LoginFailureRow.at).where(
        LoginFailureRow.at >= since,
        (LoginFailureRow.username == username) | (LoginFailureRow.address == address),
    )
    return sorted(session.scalars(query))


def check_login_allowed(
    session: Session, *, username: str, address: str, now: dt.datetime | None = None
) -> None:
    """Refuse a login attempt after MAX_FAILURES failures (per name or address) in the window."""
    now = now or utc_now()
    failures = _recent_failures(session, username, address, now)
    if len(failures) >= MAX_FAILURES:
        retry = failures[-MAX_FAILURES] + FAILURE_WINDOW - now
        seconds = max(1, int(retry.total_seconds()))
        raise RateLimitedError(
            f"too many failed sign-ins; try again in {max(1, seconds // 60)} minute(s)", seconds
        )


def record_login_failure(
    session: Session, *, username: str, address: str, now: dt.datetime | None = None
) -> None:
    """Remember a failed attempt (its own transaction must commit even though login failed)."""
    session.add(LoginFailureRow(username=username[:80], address=address[:64], at=now or utc_now()))
    session.flush()


def verify_login(session: Session, *, username: str, password: str) -> Actor:
    """The account for these credentials; AuthenticationError otherwise (no hint which)."""
    row = session.scalars(select(UserRow).where(UserRow.username == username)).one_or_none()
    if row is None or row.disabled:
        _HASHER.hash(password)  # spend the same time as a real check
        raise AuthenticationError("wrong username or password")
    try:
        _HASHER.verify(row.password_hash, password)
    except (VerificationError, InvalidHashError):
        raise AuthenticationError("wrong username or password") from None
    if _HASHER.check_needs_rehash(row.password_hash):
        row.password_hash = _HASHER.hash(password)
    session.execute(delete(LoginFailureRow).where(LoginFailureRow.username == username))
    return _actor(row)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, *, actor: Actor, name: str) -> str:
    """A new API token for `actor`; the plain token is returned once and only its hash is kept."""
    try:
        name = clean_line(name, "name", required=True)
    except ValueError as error:
        raise HindsightError(str(error)) from None
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(
        ApiTokenRow(
            user_id=actor.id,
            name=name[:100],
            token_hash=_digest(token),
            prefix=token[:10],
            created_at=utc_now(),
            revoked=False,
        )
    )
    session.flush()
    return token


@dataclass(frozen=True)
class TokenInfo:
    """An API token as listed (never the token itself)."""

    id: int
    name: str
    prefix: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None


def list_tokens(session: Session, *, actor: Actor) -> list[TokenInfo]:
    """The actor's live tokens, newest first."""
    rows = session.scalars(
        select(ApiTokenRow)
        .where(ApiTokenRow.user_id == actor.id, ApiTokenRow.revoked.is_(False))
        .order_by(ApiTokenRow.id.desc())
    )
    return [TokenInfo(r.id, r.name, r.prefix, r.created_at, r.last_used_at) for r in rows]


def revoke_token(session: Session, *, actor: Actor, token_id: int) -> None:
    """Revoke one of the actor's tokens."""
    # Ids beyond a 32-bit integer cannot exist (and PostgreSQL would refuse to compare them).
    row = session.get(ApiTokenRow, token_id) if 0 < token_id < 2**31 else None
    if row is None or row.user_id != actor.id:
        raise NotFoundError("no such token")
    row.revoked = True
    session.flush()


TOKEN_USE_PRECISION = dt.timedelta(minutes=5)


def actor_for_token(
    session: Session, *, token: str, now: dt.datetime | None = None
) -> tuple[Actor | None, bool]:
    """The enabled account that owns this live token (or None), and whether its last use is
    stale enough to record (see `record_token_use`); reads only."""
    row = session.scalars(
        select(ApiTokenRow).where(ApiTokenRow.token_hash == _digest(token))
    ).one_or_none()
    if row is None or row.revoked:
        return None, False
    actor = get_actor(session, user_id=row.user_id)
    stale = row.last_used_at is None or row.last_used_at < (now or utc_now()) - TOKEN_USE_PRECISION
    return actor, actor is not None and stale


def record_token_use(session: Session, *, token: str, now: dt.datetime | None = None) -> None:
    """Note when a token was last used (to the nearest few minutes, so reads stay reads)."""
    row = session.scalars(
        select(ApiTokenRow).where(ApiTokenRow.token_hash == _digest(token))
    ).one_or_none()
    if row is not None:
        row.last_used_at = now or utc_now()


def ensure_first_admin(session: Session, *, password: str | None = None) -> str | None:
    """With no accounts yet, create `admin`; returns the password when one was generated."""
    if session.scalar(select(func.count()).select_from(UserRow)):
        return None
    generated = password is None
    password = password or secrets.token_urlsafe(12)
    create_user(
        session, username="admin", password=password, role=Role.ADMIN, display_name="Administrator"
    )
    return password if generated else None


def signing_secret(session: Session) -> str:
    """The secret that signs session cookies: made once, kept in the database so every
    process and every restart shares it."""
    row = session.get(SecretRow, "session")
    if row is None:
        row = SecretRow(name="session", value=secrets.token_urlsafe(48))
        session.add(row)
        session.flush()
    return row.value
