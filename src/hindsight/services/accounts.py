"""Accounts, roles, API tokens, the sessions an account change ends, and the application's
signing secret. Sign-in and its limits are in `logins`, the password policy in `passwords`."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from hindsight.domain.access import Actor, Role
from hindsight.domain.text import clean_line
from hindsight.domain.timeline import resolve_zone
from hindsight.errors import ConflictError, HindsightError, NotFoundError, PermissionDeniedError
from hindsight.services.incidents import utc_now
from hindsight.services.passwords import (
    MAX_PASSWORD_LENGTH,
    check_password_policy,
    hash_password,
    password_matches,
)
from hindsight.services.sessions import (
    TOUCH_PRECISION,
    SessionLimits,
    end_user_sessions,
    secret_digest,
)
from hindsight.storage.models import ApiTokenRow, SecretRow, UserRow, UserSessionRow

TOKEN_PREFIX = "hs_"


class AuthenticationError(HindsightError):
    """Wrong username or password (deliberately not saying which)."""


def _actor(row: UserRow) -> Actor:
    return Actor(
        row.id, row.username, row.display_name or row.username, Role(row.role), row.timezone
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
    check_password_policy(password, username=username)
    if session.scalar(select(UserRow.id).where(UserRow.username == username)):
        raise ConflictError(f"the username '{username}' is taken", 0)
    row = UserRow(
        username=username,
        display_name=display_name.strip(),
        role=Role(role),
        password_hash=hash_password(password),
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


def _refuse_removing_the_last_admin(session: Session, row: UserRow) -> None:
    if row.role != Role.ADMIN or row.disabled:
        return
    admins = session.scalar(
        select(func.count())
        .select_from(UserRow)
        .where(UserRow.role == Role.ADMIN, UserRow.disabled.is_(False))
    )
    if (admins or 0) <= 1:
        raise ConflictError(
            f"'{row.username}' is the last active admin; make another account admin first", 0
        )


def revoke_user_tokens(session: Session, *, user_id: int) -> int:
    """Revoke every live API token of the account; returns how many."""
    result = session.execute(
        update(ApiTokenRow)
        .where(ApiTokenRow.user_id == user_id, ApiTokenRow.revoked.is_(False))
        .values(revoked=True)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def set_disabled(session: Session, *, username: str, disabled: bool = True) -> None:
    """Disable (or re-enable) an account. Disabling ends its sessions and revokes its API
    tokens for good: re-enabling does not bring them back."""
    row = _user_row(session, username)
    if disabled and not row.disabled:
        _refuse_removing_the_last_admin(session, row)
        end_user_sessions(session, user_id=row.id)
        revoke_user_tokens(session, user_id=row.id)
    row.disabled = disabled
    session.flush()


def set_role(session: Session, *, username: str, role: Role) -> None:
    """Change an account's role; its sessions end, so it signs in again under the new role
    (its API tokens stay, and act with the new role from the next request)."""
    row = _user_row(session, username)
    role = Role(role)
    if row.role == role:
        return
    if role != Role.ADMIN:
        _refuse_removing_the_last_admin(session, row)
    row.role = role
    end_user_sessions(session, user_id=row.id)
    session.flush()


def set_password(session: Session, *, username: str, password: str) -> int:
    """Replace an account's password: every session ends and every API token is revoked
    (whoever knew the old one may have made either). Returns how many tokens were revoked."""
    check_password_policy(password, username=username)
    return store_password_hash(session, username=username, password_hash=hash_password(password))


def store_password_hash(session: Session, *, username: str, password_hash: str) -> int:
    """`set_password` with a hash already made (the web makes it in a worker thread)."""
    row = _user_row(session, username)
    row.password_hash = password_hash
    end_user_sessions(session, user_id=row.id)
    revoked = revoke_user_tokens(session, user_id=row.id)
    session.flush()
    return revoked


def password_hash_of(session: Session, *, username: str) -> tuple[int, str] | None:
    """The id and stored hash of the enabled account with this name, or None."""
    row = session.scalars(select(UserRow).where(UserRow.username == username)).one_or_none()
    return None if row is None or row.disabled else (row.id, row.password_hash)


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


def verify_login(session: Session, *, username: str, password: str) -> Actor:
    """The account for these credentials; AuthenticationError otherwise (no hint which).
    Hashes on the calling thread: the web signs in through `logins.sign_in` instead."""
    found = password_hash_of(session, username=username)
    if len(password) > MAX_PASSWORD_LENGTH or not password_matches(
        found[1] if found else None, password
    ):
        raise AuthenticationError("wrong username or password")
    assert found is not None
    actor = get_actor(session, user_id=found[0])
    assert actor is not None
    return actor


def actor_for_session(
    session: Session, *, secret: str, limits: SessionLimits, now: dt.datetime | None = None
) -> tuple[Actor | None, bool]:
    """The enabled account signed in with this session secret (or None), and whether the
    session's last use is due a write (`sessions.touch_session`); reads only."""
    now = now or utc_now()
    found = session.execute(
        select(UserSessionRow.created_at, UserSessionRow.last_seen_at, UserRow)
        .join(UserRow, UserRow.id == UserSessionRow.user_id)
        .where(UserSessionRow.secret_hash == secret_digest(secret))
    ).one_or_none()
    if found is None or found[2].disabled or limits.expired(found[0], found[1], now):
        return None, False
    return _actor(found[2]), found[1] < now - TOUCH_PRECISION


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


# -- the admin's users page ---------------------------------------------------------------------


@dataclass(frozen=True)
class UserInfo:
    """An account as an admin sees it."""

    username: str
    display_name: str
    role: Role
    disabled: bool
    created_at: dt.datetime
    last_active: dt.datetime | None
    sessions: int
    tokens: int


@dataclass(frozen=True)
class UserPage:
    """One page of accounts and how many there are in all."""

    items: list[UserInfo]
    total: int


def _require_admin(actor: Actor) -> None:
    if actor.role != Role.ADMIN:
        raise PermissionDeniedError("only admins manage accounts")


def _refuse_self(actor: Actor, username: str) -> None:
    if actor.username == username:
        raise PermissionDeniedError(
            "you cannot change your own role or disable yourself; another admin can"
        )


def list_accounts(session: Session, *, actor: Actor, limit: int = 50, offset: int = 0) -> UserPage:
    """A page of accounts by username, with their sessions and live tokens (admins only)."""
    _require_admin(actor)
    total = session.scalar(select(func.count()).select_from(UserRow)) or 0
    return UserPage(_accounts(session, limit=limit, offset=offset), total)


def _accounts(
    session: Session, *, limit: int, offset: int, username: str | None = None
) -> list[UserInfo]:
    sessions = (
        select(
            UserSessionRow.user_id,
            func.count().label("n"),
            func.max(UserSessionRow.last_seen_at).label("last"),
        )
        .group_by(UserSessionRow.user_id)
        .subquery()
    )
    tokens = (
        select(ApiTokenRow.user_id, func.count().label("n"))
        .where(ApiTokenRow.revoked.is_(False))
        .group_by(ApiTokenRow.user_id)
        .subquery()
    )
    query = (
        select(UserRow, sessions.c.n, sessions.c.last, tokens.c.n)
        .outerjoin(sessions, sessions.c.user_id == UserRow.id)
        .outerjoin(tokens, tokens.c.user_id == UserRow.id)
        .order_by(UserRow.username)
        .limit(limit)
        .offset(offset)
    )
    if username is not None:
        query = query.where(UserRow.username == username)
    return [
        UserInfo(
            u.username,
            u.display_name or u.username,
            Role(u.role),
            u.disabled,
            u.created_at,
            last,
            n_sessions or 0,
            n_tokens or 0,
        )
        for u, n_sessions, last, n_tokens in session.execute(query)
    ]


def get_account(session: Session, *, actor: Actor, username: str) -> UserInfo:
    """One account as on the users page (admins only)."""
    _require_admin(actor)
    found = _accounts(session, limit=1, offset=0, username=username)
    if not found:
        raise NotFoundError(f"no account named '{username}'")
    return found[0]


def change_role(session: Session, *, actor: Actor, username: str, role: Role) -> None:
    """An admin changes another account's role (its sessions end)."""
    _require_admin(actor)
    _refuse_self(actor, username)
    set_role(session, username=username, role=role)


def change_disabled(session: Session, *, actor: Actor, username: str, disabled: bool) -> None:
    """An admin disables (sessions end, tokens revoked) or re-enables another account."""
    _require_admin(actor)
    _refuse_self(actor, username)
    set_disabled(session, username=username, disabled=disabled)
