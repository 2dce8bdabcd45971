"""Tracker export from the postmortem page, the Action items page and the API, and the
trackers' webhooks over HTTP (the local tracker server checks each body's schema)."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterator

import pytest

from hindsight.config import Settings, TrackerTeam
from hindsight.services.accounts import list_users
from hindsight.services.database import Database
from hindsight.services.incidents import create_postmortem, get_postmortem
from tests.factories import make_postmortem
from tests.trackers_server import TrackerServer, tracker_server
from tests.web.conftest import Browser
from tests.web.test_api import _token

Make = Callable[[str | None], Browser]
SECRET = "web-hook-secret"
KEY = "2024-03-05-checkout-errors"


@pytest.fixture(scope="module")
def server() -> Iterator[TrackerServer]:
    with tracker_server() as running:
        yield running


@pytest.fixture
def owner(browser_for: Make, app_database: Database, server: TrackerServer) -> Browser:
    server.received.clear()
    client = browser_for("owner")
    settings: Settings = client.app.state.settings  # type: ignore[attr-defined]
    settings.github_api_url = settings.jira_url = server.url
    settings.github_webhook_secret = settings.jira_webhook_secret = SECRET
    settings.trackers = {"*": TrackerTeam(github_repository="acme/ops", jira_project="OPS")}
    with app_database.transaction() as session:
        actor = next(a for a, _ in list_users(session) if a.username == "owner")
        items = [{"title": f"Fix number {n}", "owner": "Ana"} for n in (1, 2, 3)]
        create_postmortem(
            session, postmortem=make_postmortem(action_items=items), author="owner", actor=actor
        )
    return client


def _items(database: Database) -> dict[str, tuple[str, str]]:
    with database.reading() as session:
        postmortem = get_postmortem(session, key=KEY).postmortem
    return {i.title: (i.status.value, i.tracker_url) for i in postmortem.action_items}


def _hook(client: Browser, tracker: str, payload: object, secret: str = SECRET) -> int:
    body = json.dumps(payload).encode()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    header = "X-Hub-Signature-256" if tracker == "github" else "X-Hub-Signature"
    headers = {header: signature, "X-GitHub-Event": "issues", "Content-Type": "application/json"}
    answer = client.post(f"/api/v1/trackers/{tracker}/webhook", content=body, headers=headers)
    return answer.status_code


def test_the_page_button_creates_an_issue_and_only_a_signed_close_marks_the_item_done(
    owner: Browser, app_database: Database, server: TrackerServer
) -> None:
    settings: Settings = owner.app.state.settings  # type: ignore[attr-defined]
    configured = settings.trackers
    settings.trackers = {}  # nothing configured: no buttons
    item_id = get_id(app_database, "Fix number 1")
    assert "tracker-export" not in owner.page(f"/incidents/{KEY}")
    assert "Create GitHub issues" not in owner.page("/actions?who=all")
    settings.trackers = configured
    page = owner.page(f"/incidents/{KEY}")
    assert f"/incidents/{KEY}/actions/{item_id}/export" in page
    assert 'value="github"' in page and 'value="jira"' in page
    assert "Create Jira issues" in owner.page("/actions?who=all")
    answer = owner.submit(f"/incidents/{KEY}/actions/{item_id}/export", {"tracker": "github"})
    assert answer.status_code == 303  # type: ignore[attr-defined]
    assert [r.errors for r in server.received] == [[]]
    url = _items(app_database)["Fix number 1"][1]
    assert url == "https://github.com/acme/ops/issues/1"
    assert f'href="{url}"' in owner.page(f"/incidents/{KEY}")

    closed = {"action": "closed", "issue": {"html_url": url}}
    assert _hook(owner, "github", closed, secret="wrong") == 403
    assert _items(app_database)["Fix number 1"][0] == "open"
    assert _hook(owner, "github", closed) == 200
    assert _items(app_database)["Fix number 1"][0] == "done"


def get_id(database: Database, title: str) -> str:
    with database.reading() as session:
        postmortem = get_postmortem(session, key=KEY).postmortem
    return next(i.id for i in postmortem.action_items if i.title == title)


def test_bulk_export_from_the_actions_page_and_the_api_and_a_jira_close(
    owner: Browser, app_database: Database, server: TrackerServer, browser_for: Make
) -> None:
    owner.page("/actions?who=all")
    with app_database.reading() as session:
        version = get_postmortem(session, key=KEY).version
    picks = [f"{KEY}|{get_id(app_database, f'Fix number {n}')}|{version}" for n in (1, 2)]
    answer = owner.post(
        "/actions/export",
        data={"csrf_token": owner.csrf, "item": picks, "tracker": "jira"},
        follow_redirects=False,
    )
    assert answer.status_code == 303 and "exported=2" in answer.headers["location"]
    assert "Created 2 tracker issues" in owner.page(answer.headers["location"])
    third = get_id(app_database, "Fix number 3")
    reader = browser_for(None)
    reader.headers.update(_token(app_database, "reader"))
    refused = reader.post(
        f"/api/v1/incidents/{KEY}/action-items/{third}/export", json={"tracker": "github"}
    )
    assert refused.status_code == 403
    api = browser_for(None)
    api.headers.update(_token(app_database, "owner"))
    made = api.post(
        f"/api/v1/incidents/{KEY}/action-items/{third}/export", json={"tracker": "github"}
    )
    assert made.status_code == 201, made.text
    assert made.json()[0]["tracker_url"] == "https://github.com/acme/ops/issues/3"
    assert all(r.errors == [] for r in server.received) and len(server.received) == 3

    items = _items(app_database)
    jira_key = items["Fix number 2"][1].rsplit("/", 1)[1]
    done = {
        "webhookEvent": "jira:issue_updated",
        "issue": {"key": jira_key, "fields": {"status": {"statusCategory": {"key": "done"}}}},
    }
    assert _hook(owner, "jira", done, secret="wrong") == 403
    assert _items(app_database)["Fix number 2"][0] == "open"
    assert _hook(owner, "jira", done) == 200
    assert _items(app_database) == {**items, "Fix number 2": ("done", items["Fix number 2"][1])}


def test_a_tracker_failing_part_way_keeps_the_links_already_made_so_a_retry_skips_them(
    owner: Browser, app_database: Database, server: TrackerServer, browser_for: Make
) -> None:
    settings: Settings = owner.app.state.settings  # type: ignore[attr-defined]
    settings.trackers = {
        "*": TrackerTeam(github_repository="acme/ops"),
        "payments": TrackerTeam(github_repository="acme/gone"),
    }
    with app_database.transaction() as session:
        stored = get_postmortem(session, key=KEY)
    # Bo is in no team (acme/ops); Ana, once in payments, goes to a repository that is gone.
    people = [{"name": "Ana", "role": "incident_commander", "team": "payments"}]
    server.refused.add("acme/gone")
    api = browser_for(None)
    api.headers.update(_token(app_database, "owner"))
    patched = api.patch(
        f"/api/v1/incidents/{KEY}",
        json={
            "version": stored.version,
            "set": {
                "participants": people,
                f"action_items.{get_id(app_database, 'Fix number 1')}.owner": "Bo",
            },
        },
    )
    assert patched.status_code == 200, patched.text
    first, second = get_id(app_database, "Fix number 1"), get_id(app_database, "Fix number 2")
    items = [{"key": KEY, "item_id": first}, {"key": KEY, "item_id": second}]
    failed = api.post("/api/v1/action-items/export", json={"tracker": "github", "items": items})
    assert failed.status_code == 502
    assert "answered 404" in failed.json()["error"]["message"]
    assert (
        f"{KEY} {first} -> https://github.com/acme/ops/issues/" in failed.json()["error"]["message"]
    )
    links = _items(app_database)
    assert links["Fix number 1"][1].startswith("https://github.com/acme/ops/issues/")
    assert links["Fix number 2"][1] == ""
    again = api.post("/api/v1/action-items/export", json={"tracker": "github", "items": items})
    assert again.status_code == 400 and "already has a tracker issue" in again.text
