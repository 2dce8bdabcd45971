"""The admins' users page (issue 9, finding 9: no way to change a role except SQL)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hindsight.domain.access import Role
from hindsight.services import accounts
from hindsight.services.accounts import create_user, list_users
from hindsight.services.database import Database
from tests.web.conftest import PASSWORD, Browser
from tests.web.test_api import _token

Make = Callable[[str | None], Browser]


def _roles(database: Database) -> dict[str, tuple[Role, bool]]:
    with database.reading() as session:
        return {a.username: (a.role, disabled) for a, disabled in list_users(session)}


def test_an_admin_changes_a_role_on_the_users_page_and_that_user_is_signed_out(
    browser_for: Make, app_database: Database
) -> None:
    boss = browser_for("boss")
    reader = browser_for("reader")
    page = boss.page("/admin/users")
    assert "reader" in page and 'href="/admin/users"' in page
    changed = boss.submit("/admin/users/reader/role", {"role": "editor"})
    assert changed.status_code == 200  # type: ignore[attr-defined]
    assert "reader is now editor" in changed.text  # type: ignore[attr-defined]
    assert _roles(app_database)["reader"] == (Role.EDITOR, False)
    assert reader.get("/settings", follow_redirects=False).status_code == 303
    refused = boss.submit("/admin/users/reader/role", {"role": "owner"})
    assert refused.status_code == 422  # type: ignore[attr-defined]
    own = boss.submit("/admin/users/boss/role", {"role": "viewer"})
    assert "your own" in own.text and _roles(app_database)["boss"][0] is Role.ADMIN  # type: ignore[attr-defined]


def test_disabling_asks_first_then_signs_out_and_revokes_tokens_for_good(
    browser_for: Make, app_database: Database
) -> None:
    """Issue 10, finding 20, through the page: enabling again keeps the tokens revoked."""
    owner = browser_for("owner")
    headers = _token(app_database, "owner")
    boss = browser_for("boss")
    confirm = boss.page("/admin/users/owner/disable")
    assert "Disable owner?" in confirm and "1 session" in confirm and "1 API token" in confirm
    assert _roles(app_database)["owner"] == (Role.EDITOR, False)  # asking changed nothing
    done = boss.submit("/admin/users/owner/disable")
    assert done.headers["location"] == "/admin/users"  # type: ignore[attr-defined]
    assert _roles(app_database)["owner"] == (Role.EDITOR, True)
    assert owner.get("/settings", follow_redirects=False).status_code == 303
    boss.page("/admin/users")
    boss.submit("/admin/users/owner/enable")
    assert _roles(app_database)["owner"] == (Role.EDITOR, False)
    assert owner.get("/api/v1/me", headers=headers).status_code == 401
    assert browser_for("owner").get("/api/v1/me").json()["username"] == "owner"


@pytest.mark.parametrize("persona", ["owner", "reader"])
def test_viewers_and_editors_are_refused_the_users_page(browser_for: Make, persona: str) -> None:
    client = browser_for(persona)
    assert 'href="/admin/users"' not in client.page("/")
    assert client.get("/admin/users").status_code == 403
    assert client.get("/admin/users/teammate/disable").status_code == 403
    for action, data in [("role", {"role": "admin"}), ("disable", {}), ("enable", {})]:
        response = client.submit(f"/admin/users/teammate/{action}", data)
        assert response.status_code == 403, action  # type: ignore[attr-defined]
    anonymous = browser_for(None)
    assert anonymous.get("/admin/users", follow_redirects=False).status_code == 303


def test_the_users_page_is_paginated(
    browser_for: Make, app_database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(accounts, "hash_password", lambda _: "not-a-hash")  # 47 fast accounts
    with app_database.transaction() as session:
        for n in range(47):
            create_user(session, username=f"user{n:02}", password=PASSWORD)
    boss = browser_for("boss")
    first = boss.page("/admin/users")
    assert "52 accounts" in first and "Page 1 of 2" in first
    assert "user44" in first and "user45" not in first
    second = boss.page("/admin/users?page=2").split("<tbody>")[1]
    assert "user45" in second and "user46" in second and "boss" not in second
