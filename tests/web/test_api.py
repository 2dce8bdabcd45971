"""The JSON API: token auth, every operation, errors as JSON with the field at fault."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from hindsight.services.accounts import create_token, list_users
from hindsight.services.database import Database
from hindsight.services.demo import demo_document, load_demo
from tests.web.conftest import Browser

DEMO = "2018-01-18-reddit-hugs-mybinder"
Make = Callable[[str | None], Browser]


def _token(database: Database, username: str) -> dict[str, str]:
    with database.transaction() as session:
        actor = next(a for a, _ in list_users(session) if a.username == username)
        return {"Authorization": f"Bearer {create_token(session, actor=actor, name='test')}"}


@pytest.fixture
def api(browser_for: Make, app_database: Database) -> TestClient:
    client = browser_for(None)
    client.headers.update(_token(app_database, "owner"))
    return client


def test_requests_without_a_valid_token_get_401_json(browser_for: Make) -> None:
    client = browser_for(None)
    response = client.get("/api/v1/incidents")
    assert response.status_code == 401
    assert "Bearer" in response.json()["error"]["message"]
    bad = client.get("/api/v1/incidents", headers={"Authorization": "Bearer hs_nope"})
    assert bad.status_code == 401


def test_the_openapi_schema_is_published(browser_for: Make) -> None:
    schema = browser_for(None).get("/api/v1/openapi.json").json()
    assert schema["info"]["title"] == "Hindsight API"
    assert "/incidents/{key}" in schema["paths"] and "patch" in schema["paths"]["/incidents/{key}"]


def test_create_read_patch_and_conflict(api: TestClient) -> None:
    created = api.post(
        "/api/v1/incidents",
        json={
            "title": "DNS outage",
            "severity": "SEV1",
            "date": "2024-05-01",
            "postmortem": {
                "services": ["dns"],
                "timeline": [
                    {
                        "at": "2024-05-01T10:00:00Z",
                        "text": "Resolvers failing",
                        "key_moment": "impact_started",
                    },
                    {"at": "2024-05-01T10:07:00Z", "text": "Page", "key_moment": "detected"},
                ],
            },
        },
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["key"] == "2024-05-01-dns-outage" and body["version"] == 1
    assert body["metrics"]["time_to_detect_seconds"] == 420
    key = body["key"]
    patched = api.patch(
        f"/api/v1/incidents/{key}", json={"version": 1, "set": {"impact.users_affected": 12000}}
    )
    assert patched.status_code == 200 and patched.json()["version"] == 2
    # A stale version merges when the other side changed other fields…
    merged = api.patch(f"/api/v1/incidents/{key}", json={"version": 1, "set": {"title": "x"}})
    assert merged.status_code == 200 and merged.json()["version"] == 3
    assert merged.json()["postmortem"]["impact"]["users_affected"] == 12000
    # …and is a conflict, with both values, when the same field changed.
    stale = api.patch(
        f"/api/v1/incidents/{key}", json={"version": 1, "set": {"impact.users_affected": 5}}
    )
    assert stale.status_code == 409
    error = stale.json()["error"]
    assert error["current_version"] == 3
    assert error["conflicts"] == [
        {"field": "impact.users_affected", "label": "", "mine": 5, "theirs": 12000}
    ]
    listed = api.get("/api/v1/incidents", params={"severity": "SEV1"}).json()
    assert listed["total"] == 1 and listed["items"][0]["key"] == key


def test_bad_values_name_the_field(api: TestClient) -> None:
    api.post("/api/v1/incidents", json={"title": "A", "severity": "SEV3", "key": "a"})
    response = api.patch("/api/v1/incidents/a", json={"version": 1, "set": {"severity": "SEV9"}})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "severity"
    missing = api.post("/api/v1/incidents", json={"severity": "SEV3"})
    assert missing.status_code == 422 and missing.json()["error"]["field"] == "title"
    path = api.patch("/api/v1/incidents/a", json={"version": 1, "set": {"impact.nope": 1}})
    assert path.status_code == 400 and "unknown field" in path.json()["error"]["message"]
    assert api.get("/api/v1/incidents/none").status_code == 404


def test_items_review_comments_history_and_export(
    api: TestClient, app_database: Database, browser_for: Make
) -> None:
    with app_database.transaction() as session:
        load_demo(session, author="demo")
    added = api.post(
        f"/api/v1/incidents/{DEMO}/items/lessons",
        json={"version": 1, "item": "Alert on launch failures"},
    )
    assert added.status_code == 200 and added.json()["version"] == 2
    lessons = added.json()["postmortem"]["lessons"]
    assert lessons[3]["text"] == "Alert on launch failures" and lessons[3]["id"].startswith("ls-")
    removed = api.delete(
        f"/api/v1/incidents/{DEMO}/items/lessons.{lessons[3]['id']}", params={"version": 2}
    )
    assert (
        removed.json()["postmortem"]["lessons"][-1]["text"] == "A written list of incident "
        "commands saves time under pressure."
    )
    assert (
        api.post(
            f"/api/v1/incidents/{DEMO}/review/request", json={"reviewers": ["teammate"]}
        ).json()["postmortem"]["review_status"]
        == "in_review"
    )
    teammate = browser_for(None)
    teammate.headers.update(_token(app_database, "teammate"))
    approved = teammate.post(f"/api/v1/incidents/{DEMO}/review/decide", json={"approve": True})
    assert approved.json()["postmortem"]["review_status"] == "approved"
    assert api.post(f"/api/v1/incidents/{DEMO}/review/publish").status_code == 200
    locked = api.patch(f"/api/v1/incidents/{DEMO}", json={"version": 6, "set": {"title": "x"}})
    assert locked.status_code == 403
    comment = api.post(
        f"/api/v1/incidents/{DEMO}/comments", json={"section": "impact", "body": "Numbers?"}
    )
    assert comment.status_code == 201
    history = api.get(f"/api/v1/incidents/{DEMO}/history").json()
    assert [h["action"] for h in history][-3:] == ["request_review", "approve", "publish"]
    exported = api.get(f"/api/v1/incidents/{DEMO}/export", params={"format": "markdown"})
    assert exported.text.startswith("---\nhindsight: 1\n")
    assert exported.text != demo_document()  # it changed since
    report = api.get(
        f"/api/v1/incidents/{DEMO}/export", params={"format": "html", "template": "external"}
    )
    assert report.status_code == 200 and "Incident report" in report.text
    pdf = api.get(f"/api/v1/incidents/{DEMO}/export", params={"format": "pdf"})
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    wrong = api.get(
        f"/api/v1/incidents/{DEMO}/export", params={"format": "markdown", "template": "classic"}
    )
    assert wrong.status_code == 400


def test_tokens_can_be_listed_created_and_revoked(api: TestClient) -> None:
    token = api.post("/api/v1/tokens", json={"name": "script"}).json()["token"]
    listed = api.get("/api/v1/tokens").json()
    assert {t["name"] for t in listed} == {"test", "script"}
    assert all("token" not in t for t in listed)
    script = next(t for t in listed if t["name"] == "script")
    assert api.delete(f"/api/v1/tokens/{script['id']}").status_code == 204
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert api.get("/api/v1/me").json()["username"] == "owner"


def test_a_browser_session_needs_the_csrf_header_to_write(browser_for: Make) -> None:
    client = browser_for("owner")
    assert client.get("/api/v1/me").json()["username"] == "owner"
    refused = client.post("/api/v1/tokens", json={"name": "x"})
    assert refused.status_code == 401
    accepted = client.post(
        "/api/v1/tokens", json={"name": "x"}, headers={"X-CSRF-Token": client.csrf}
    )
    assert accepted.status_code == 201


def test_inputs_the_fuzzer_found_are_refused_cleanly(api: TestClient) -> None:
    nul = api.get("/api/v1/incidents", params={"q": "a\x00b"})
    assert nul.status_code == 400 and "NUL" in nul.json()["error"]["message"]
    unknown = api.get("/api/v1/incidents", params={"review": "sleeping"})
    assert unknown.status_code == 400 and "review" in unknown.json()["error"]["message"]
    assert api.get("/api/v1/incidents/a%00b").status_code == 400
    assert api.delete("/api/v1/tokens/2329403638").status_code == 422
