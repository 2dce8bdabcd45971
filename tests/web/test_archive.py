"""Archive, unarchive and delete from the postmortem page and the API, with the personas."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hindsight.services.accounts import list_users
from hindsight.services.database import Database
from hindsight.services.incidents import create_postmortem
from tests.factories import make_postmortem
from tests.web.conftest import Browser
from tests.web.test_api import _token

Make = Callable[[str | None], Browser]
KEY = "2024-03-05-checkout-errors"
PAGE = f"/incidents/{KEY}"


@pytest.fixture
def incident(app_database: Database) -> str:
    """An internal incident created by `owner` (so owner is its member)."""
    with app_database.transaction() as session:
        owner = next(a for a, _ in list_users(session) if a.username == "owner")
        create_postmortem(session, postmortem=make_postmortem(), author="owner", actor=owner)
    return KEY


def _archive(client: Browser) -> object:
    client.page(PAGE)
    return client.submit(f"{PAGE}/archive")


def test_an_archived_incident_leaves_the_list_but_an_admin_can_open_it(
    browser_for: Make, incident: str
) -> None:
    owner = browser_for("owner")
    assert "Archive this incident" in owner.page(PAGE)
    response = _archive(owner)
    assert response.status_code == 303 and response.headers["location"] == PAGE  # type: ignore[attr-defined]
    for persona in ("owner", "teammate", "boss"):
        client = browser_for(persona)
        listing = client.page("/")
        assert "Checkout errors" not in listing and "0 incidents" in listing
        assert "Checkout errors" not in client.page("/?q=checkout")
    boss = browser_for("boss")
    page = boss.page(PAGE)
    assert "Archived" in page and "Restore" in page and "by owner" in page
    assert f'action="{PAGE}/unarchive"' in page
    assert "Checkout errors" in boss.page("/?archived=true")
    assert "Edit</a>" not in page  # read-only while archived


def test_restore_brings_an_archived_incident_back_and_both_steps_are_in_the_history(
    browser_for: Make, incident: str
) -> None:
    owner = browser_for("owner")
    _archive(owner)
    owner.page(PAGE)
    assert owner.submit(f"{PAGE}/unarchive").status_code == 303  # type: ignore[attr-defined]
    assert "Checkout errors" in browser_for("teammate").page("/")
    history = owner.page(f"{PAGE}/history")
    assert "archive by" in history and "unarchive by" in history


def test_an_archived_incident_is_not_found_for_editors_who_are_not_members_and_viewers(
    browser_for: Make, app_database: Database, incident: str
) -> None:
    _archive(browser_for("owner"))
    for persona in ("teammate", "reader"):
        client = browser_for(persona)
        assert client.get(PAGE).status_code == 404
        headers = _token(app_database, persona)
        assert client.get(f"/api/v1{PAGE}", headers=headers).status_code == 404


@pytest.mark.parametrize("persona", ["teammate", "reader"])
def test_viewers_and_editors_who_are_not_members_cannot_archive(
    browser_for: Make, app_database: Database, incident: str, persona: str
) -> None:
    client = browser_for(persona)
    page = client.page(PAGE)
    assert "Archive this incident" not in page and "Delete this incident" not in page
    assert client.submit(f"{PAGE}/archive").status_code == 403  # type: ignore[attr-defined]
    api = client.post(f"/api/v1{PAGE}/archive", headers=_token(app_database, persona))
    assert api.status_code == 403
    assert "Checkout errors" in client.page("/")


@pytest.mark.parametrize("persona", ["owner", "teammate", "reader"])
def test_an_editor_or_a_viewer_cannot_delete(
    browser_for: Make, app_database: Database, incident: str, persona: str
) -> None:
    client = browser_for(persona)
    client.page(PAGE)
    refused = client.submit(f"{PAGE}/delete", {"confirm": KEY})
    assert refused.status_code == 403  # type: ignore[attr-defined]
    api = client.delete(f"/api/v1{PAGE}", headers=_token(app_database, persona))
    assert api.status_code == 403
    assert "only admins" in api.json()["error"]["message"]
    assert client.get(PAGE).status_code == 200


def test_an_admin_deletes_an_incident_only_after_typing_its_key(
    browser_for: Make, incident: str
) -> None:
    boss = browser_for("boss")
    assert "Delete this incident for good" in boss.page(PAGE)
    wrong = boss.submit(f"{PAGE}/delete", {"confirm": "checkout"})
    assert wrong.status_code == 422  # type: ignore[attr-defined]
    assert f"Type the incident&#39;s key, {KEY}" in wrong.text  # type: ignore[attr-defined]
    assert 'value="checkout"' in wrong.text  # type: ignore[attr-defined]
    assert boss.get(PAGE).status_code == 200
    done = boss.submit(f"{PAGE}/delete", {"confirm": KEY})
    assert done.status_code == 303  # type: ignore[attr-defined]
    assert f"Deleted {KEY} for good" in boss.page(done.headers["location"])  # type: ignore[attr-defined]
    assert boss.get(PAGE).status_code == 404


def test_the_api_archives_unarchives_and_an_admin_deletes(
    browser_for: Make, app_database: Database, incident: str
) -> None:
    client = browser_for(None)
    owner = _token(app_database, "owner")
    archived = client.post(f"/api/v1{PAGE}/archive", headers=owner)
    assert archived.status_code == 200
    body = archived.json()
    assert body["archived_by"] == "owner" and body["archived_at"] and body["version"] == 2
    assert client.get("/api/v1/incidents", headers=owner).json()["total"] == 0
    listed = client.get("/api/v1/incidents?archived=true", headers=owner).json()
    assert [item["key"] for item in listed["items"]] == [KEY]
    again = client.post(f"/api/v1{PAGE}/archive", headers=owner)
    assert again.status_code == 400 and "already archived" in again.json()["error"]["message"]
    patch = client.patch(
        f"/api/v1{PAGE}", headers=owner, json={"version": 2, "set": {"title": "x"}}
    )
    assert patch.status_code == 403
    restored = client.post(f"/api/v1{PAGE}/unarchive", headers=owner).json()
    assert restored["archived_at"] is None and restored["version"] == 3
    boss = _token(app_database, "boss")
    assert client.delete(f"/api/v1{PAGE}", headers=boss).status_code == 204
    assert client.get(f"/api/v1{PAGE}", headers=boss).status_code == 404
    assert client.delete(f"/api/v1{PAGE}", headers=boss).status_code == 404
