"""Passwords: the policy a new one must meet, and Argon2id hashing, which the web calls in a
worker thread (one hash is tens of milliseconds of CPU that would otherwise stall every
request on the event loop)."""

from __future__ import annotations

import gzip
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from hindsight.errors import HindsightError

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256
# The 20,000 common passwords Django ships (django/contrib/auth/common-passwords.txt.gz,
# BSD-3-Clause, from Royce Williams' list), unchanged; compared lower-cased.
COMMON_PASSWORDS = Path(__file__).with_name("common-passwords.txt.gz")

_HASHER = PasswordHasher()
# Verified against when the username is unknown, so that answer takes as long as a real one.
# Made on first use (the web server makes it as it starts): hashing at import cost every
# command ~150 ms to start.
_DUMMY_HASH: str | None = None


def dummy_hash() -> str:
    """The hash an unknown account's password is checked against."""
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = _HASHER.hash("no account has this password")
    return _DUMMY_HASH


class PasswordPolicyError(HindsightError):
    """A new password that does not meet the policy."""


@cache
def _common_passwords() -> frozenset[str]:
    with gzip.open(COMMON_PASSWORDS, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip().lower() for line in lines if line.strip())


def check_password_policy(password: str, *, username: str = "") -> None:
    """Refuse a password that is short, huge, blank, one repeated character, the username or
    a common password; the message says which and what would work."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordPolicyError(
            f"password: must be at least {MIN_PASSWORD_LENGTH} characters; a short phrase of "
            "a few words works well"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise PasswordPolicyError(f"password: must be at most {MAX_PASSWORD_LENGTH} characters")
    if not password.strip():
        raise PasswordPolicyError("password: may not be only spaces")
    if len(set(password)) == 1:
        raise PasswordPolicyError("password: may not be one character repeated")
    folded = password.strip().lower()
    if username and folded == username.lower():
        raise PasswordPolicyError("password: may not be the username")
    if folded in _common_passwords():
        raise PasswordPolicyError(
            "password: is on a list of commonly used passwords; choose another"
        )


def hash_password(password: str) -> str:
    """The Argon2id hash to store (tens of milliseconds of CPU: the web calls it in a thread)."""
    return _HASHER.hash(password)


def password_matches(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches the stored hash; with no hash (unknown account) a dummy one
    is checked, so both answers cost the same time."""
    try:
        return _HASHER.verify(password_hash or dummy_hash(), password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than today's."""
    return _HASHER.check_needs_rehash(password_hash)
