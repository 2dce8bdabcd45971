"""Sessions that end (issue 10, finding 4), sign-in limits that trust proxies only when told
(finding 9) and password hashing off the event loop (finding 10)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from hindsight.config import Settings
from hindsight.services import logins
from hindsight.services.database import Database
from hindsight.web.app import create_app
from tests.web.conftest import PASSWORD, Browser

Make = Callable[[str | None], Browser]
COOKIE = "hindsight_session"


def _replay(browser_for: Make, cookie: str) -> Browser:
    """Another browser holding a copy of a saved session cookie."""
    thief = browser_for(None)
    thief.cookies.clear()  # a browser keeps one cookie of a name: the copy replaces its own
    thief.cookies.set(COOKIE, cookie)
    return thief


def _signed_in_as(client: Browser) -> int:
    return client.get("/settings", follow_redirects=False).status_code


def test_a_cookie_saved_before_sign_out_is_refused_after_it(browser_for: Make) -> None:
    client = browser_for("owner")
    saved = client.cookies[COOKIE]
    assert _signed_in_as(_replay(browser_for, saved)) == 200  # a copy works while signed in
    client.page("/")
    csrf = client.csrf  # the cookie carries it, so a thief has it too
    assert client.submit("/logout").status_code == 303  # type: ignore[attr-defined]
    thief = _replay(browser_for, saved)
    assert _signed_in_as(thief) == 303
    thief.cookies.set(COOKIE, saved)
    assert thief.get("/api/v1/me").status_code == 401
    thief.cookies.set(COOKIE, saved)
    created = thief.post("/api/v1/tokens", json={"name": "x"}, headers={"X-CSRF-Token": csrf})
    assert created.status_code == 401


def test_a_cookie_saved_before_a_password_change_is_refused_after_it(
    browser_for: Make,
) -> None:
    client = browser_for("owner")
    elsewhere = browser_for("owner")
    saved = client.cookies[COOKIE]
    client.page("/settings")
    client.submit("/settings/tokens", {"name": "ci"})
    secret = client.page("/settings").split('id="new-token">')[1].split("<")[0]
    changed = client.submit(
        "/settings/password",
        {"current": PASSWORD, "new": "a brand new passphrase", "repeat": "a brand new passphrase"},
    )
    assert "Password changed" in changed.text  # type: ignore[attr-defined]
    assert "1 API token(s) revoked" in changed.text  # type: ignore[attr-defined]
    assert _signed_in_as(client) == 200  # this browser got a new session
    assert _signed_in_as(_replay(browser_for, saved)) == 303
    assert _signed_in_as(elsewhere) == 303
    bearer = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/me", headers=bearer).status_code == 401


def test_a_new_password_that_breaks_the_policy_is_refused_with_the_reason(
    browser_for: Make,
) -> None:
    """Issue 10, finding 18, through the Settings form."""
    client = browser_for("owner")
    client.page("/settings")
    for new, reason in [(" " * 12, "only spaces"), ("a" * 12, "repeated"), ("x" * 900, "256")]:
        refused = client.submit(
            "/settings/password", {"current": PASSWORD, "new": new, "repeat": new}
        )
        assert refused.status_code == 422 and reason in refused.text  # type: ignore[attr-defined]
    assert _signed_in_as(client) == 200


def test_settings_list_sessions_and_sign_out_one_or_everywhere(browser_for: Make) -> None:
    laptop = browser_for("owner")
    phone = browser_for("owner")
    page = laptop.page("/settings")
    assert "Sessions" in page and page.count("/settings/sessions/") == 3  # two rows, end-all
    assert "this browser" in page and "testclient" in page
    [phone_row] = [row for row in page.split("<tr>") if "/end" in row and "this browser" not in row]
    phone_id = phone_row.split('action="/settings/sessions/')[1].split("/")[0]
    ended = laptop.submit(f"/settings/sessions/{phone_id}/end")
    assert ended.headers["location"] == "/settings"  # type: ignore[attr-defined]
    assert _signed_in_as(phone) == 303 and _signed_in_as(laptop) == 200
    assert laptop.submit("/settings/sessions/999999/end").status_code == 404  # type: ignore[attr-defined]
    tablet = browser_for("owner")
    laptop.page("/settings")
    laptop.submit("/settings/sessions/end-all")
    assert _signed_in_as(laptop) == 303 and _signed_in_as(tablet) == 303


def test_another_persons_session_cannot_be_ended_by_id(browser_for: Make) -> None:
    owner = browser_for("owner")
    teammate = browser_for("teammate")
    page = teammate.page("/settings")
    their_id = page.split('action="/settings/sessions/')[1].split("/")[0]
    owner.page("/settings")
    assert owner.submit(f"/settings/sessions/{their_id}/end").status_code == 404  # type: ignore[attr-defined]
    assert _signed_in_as(teammate) == 200


def _app(app_database: Database, tmp_path: Path, **settings: object) -> Browser:
    values = {"database_url": "unused://", "admin_password": "admin password 1"}
    app = create_app(Settings(**values, data_dir=tmp_path, **settings), app_database)  # type: ignore[arg-type]
    client = Browser(app)
    client.page("/login")
    return client


def _try(client: Browser, username: str, password: str, forwarded: str) -> int:
    data = {"username": username, "password": password, "next": "/"}
    response = client.submit("/login", data, headers={"X-Forwarded-For": forwarded})
    return response.status_code  # type: ignore[attr-defined, no-any-return]


def test_x_forwarded_for_is_believed_only_from_configured_proxies(
    app_database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 10, finding 9: rotating X-Forwarded-For bypassed the per-address limit."""
    monkeypatch.setattr(logins, "ADDRESS_LIMIT", 3)
    direct = _app(app_database, tmp_path)
    codes = [_try(direct, f"guess{n}", "wrong guess!", f"198.51.100.{n}") for n in range(4)]
    assert codes == [401, 401, 401, 429]
    behind_proxy = _app(app_database, tmp_path, forwarded_allow_ips="testclient")
    codes = [_try(behind_proxy, f"guess{n}", "wrong guess!", f"192.0.2.{n}") for n in range(4)]
    assert codes == [401, 401, 401, 401]  # four clients behind a trusted proxy
    direct.close()
    behind_proxy.close()


def test_guessing_from_another_address_does_not_lock_out_the_real_user(
    browser_for: Make, app_database: Database, tmp_path: Path
) -> None:
    """Issue 10, finding 9: five wrong passwords locked the user out for 15 minutes."""
    user = browser_for("owner")  # has signed in before: holds a device cookie
    user.page("/")
    user.submit("/logout")
    attacker = _app(app_database, tmp_path, forwarded_allow_ips="testclient")
    codes = [_try(attacker, "owner", f"guess {n}!", f"203.0.113.{n}") for n in range(6)]
    assert codes[:3] == [401, 401, 401] and 429 in codes
    user.page("/login")
    data = {"username": "owner", "password": PASSWORD, "next": "/"}
    assert user.submit("/login", data).status_code == 303  # type: ignore[attr-defined]
    attacker.close()


def test_healthz_answers_while_sign_ins_wait_for_the_password_hasher(
    app_database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 10, finding 10: Argon2 ran on the event loop and stalled every request. Here the
    hasher is held on an Event: /healthz must answer while four sign-ins wait for it (two
    inside, the hasher's slots, and two queued behind them in worker threads)."""
    entered = threading.Semaphore(0)
    release = threading.Event()
    waiting = threading.Event()
    real = logins.password_matches

    def held(password_hash: str | None, password: str) -> bool:
        waiting.set()
        entered.release()
        release.wait(timeout=20)
        waiting.clear()
        return real(password_hash, password)

    monkeypatch.setattr(logins, "password_matches", held)
    with _app(app_database, tmp_path) as client:  # one event loop for every request
        client.page("/login")
        names = ["owner", "teammate", "nobody", "reader"]
        results: list[int] = []
        threads = [
            threading.Thread(
                target=lambda n=n: results.append(
                    _try(client, n, PASSWORD if n != "nobody" else "x" * 12, "")
                )
            )
            for n in names
        ]
        for thread in threads:
            thread.start()
        for _ in range(logins.HASHER_SLOTS):
            assert entered.acquire(timeout=20), "a sign-in never reached the hasher"
        assert not entered.acquire(timeout=0.5), "more sign-ins hashing than the hasher's slots"
        health = client.get("/healthz")
        still_hashing = waiting.is_set() and not release.is_set()
        release.set()
        for thread in threads:
            thread.join(timeout=30)
    assert health.status_code == 200 and still_hashing
    assert sorted(results) == [303, 303, 303, 401]
