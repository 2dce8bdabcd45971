"""The dummy hash an unknown account's sign-in is checked against: made when first needed
(or as the web server starts), not when the module is imported by every command."""

from __future__ import annotations

import subprocess
import sys

import pytest

from hindsight.services import passwords


def test_importing_the_module_hashes_nothing() -> None:
    probe = "import hindsight.services.passwords as p; print(p._DUMMY_HASH)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "None"


def test_an_unknown_account_is_checked_against_the_dummy_hash_made_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(passwords, "_DUMMY_HASH", None)
    assert passwords.password_matches(None, "any password at all") is False
    made = passwords._DUMMY_HASH
    assert made is not None and made.startswith("$argon2id$")
    assert passwords.password_matches(None, "no account has this password") is False
    assert passwords.dummy_hash() == made
