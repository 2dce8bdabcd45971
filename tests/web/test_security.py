"""Regression tests for issue 10's web findings: security headers, Markdown images, the vendored
API explorer, errors in one JSON shape, bad input that used to answer 500, and the API's
create and replace. Each test is named after its finding; each runs on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from starlette.routing import Mount

from hindsight.config import Settings
from hindsight.services.accounts import list_users
from hindsight.services.database import Database, open_database
from hindsight.services.incidents import create_postmortem
from hindsight.web.app import create_app
from tests.factories import make_postmortem
from tests.web.conftest import PASSWORD, Browser
from tests.web.test_api import _token

Make = Callable[[str | None], Browser]
TEMPLATES = Path(__file__).parents[2] / "src" / "hindsight" / "web" / "templates"
STATIC = TEMPLATES.parent / "static"
LONG_ZONE = "Europe/" + "x" * 300


def _store(database: Database, **overrides: Any) -> str:
    with database.transaction() as session:
        owner = next(a for a, _ in list_users(session) if a.username == "owner")
        pm = make_postmortem(**overrides)
        create_postmortem(session, postmortem=pm, author="owner", actor=owner)
    return pm.key


def _api_app(app: FastAPI) -> FastAPI:
    mount = next(r for r in app.routes if isinstance(r, Mount) and r.path == "/api/v1")
    api: FastAPI = mount.app  # type: ignore[assignment]
    return api


def _is_error_shape(body: Any) -> bool:
    return (
        isinstance(body, dict)
        and set(body) == {"error"}
        and isinstance(body["error"].get("message"), str)
        and set(body["error"]) <= {"message", "field", "current_version"}
    )


def test_15_every_answer_carries_the_security_headers_and_restricted_ones_no_store(
    browser_for: Make, app_database: Database
) -> None:
    key = _store(app_database, key="secret", visibility="restricted")
    client = browser_for("owner")
    headers = _token(app_database, "owner")
    answers = [
        client.get("/"),
        client.get(f"/incidents/{key}"),
        client.get(f"/incidents/{key}/export.md"),
        client.get(f"/incidents/{key}/export.html"),
        client.get("/no/such/page"),
        client.get(f"/api/v1/incidents/{key}", headers=headers),
        client.get(f"/api/v1/incidents/{key}/export", headers=headers),
        client.get("/api/v1/nothing-here", headers=headers),
        client.get("/healthz"),
    ]
    for response in answers:
        where = response.request.url.path
        policy = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy, where
        assert "'unsafe-inline'" not in policy.split("script-src")[-1].split(";")[0], where
        assert response.headers["x-frame-options"] == "DENY", where
        assert response.headers["x-content-type-options"] == "nosniff", where
        assert response.headers["referrer-policy"] == "same-origin", where
        assert response.headers["cache-control"] == "no-store", where
    page_policy = answers[1].headers["content-security-policy"]
    assert "script-src 'self';" in page_policy and "default-src 'self'" in page_policy
    assert answers[3].headers["content-security-policy"].startswith("default-src 'none'")
    static = client.get("/static/hindsight.css")
    assert static.status_code == 200 and static.headers.get("cache-control") != "no-store"


def test_15_templates_hold_no_inline_script_or_event_handler(
    browser_for: Make, app_database: Database
) -> None:
    inline_script = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
    handler = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
    for template in TEMPLATES.glob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert not inline_script.search(text), template.name
        assert not handler.search(text), template.name
        assert "hx-on" not in text and "javascript:" not in text, template.name
    key = _store(app_database)
    page = browser_for("owner").page(f"/incidents/{key}")
    assert not inline_script.search(page) and not handler.search(page)
    assert 'data-opens="import-dialog"' in page and "data-prints" in page
    assert (STATIC / "hindsight.js").is_file()


def test_16_markdown_images_from_other_hosts_are_shown_as_links(
    app_database: Database, tmp_path: Path
) -> None:
    summary = (
        "![tracker](https://evil.example/pixel.png) ![graph](https://grafana.example/g.png) "
        "![own](/static/hindsight.css)"
    )
    key = _store(app_database, summary=summary)
    settings = Settings(
        database_url="unused://",
        data_dir=tmp_path,
        allowed_image_hosts=["grafana.example"],
    )
    client = Browser(create_app(settings, app_database))
    client.page("/login")
    client.submit("/login", {"username": "owner", "password": PASSWORD})
    response = client.get(f"/incidents/{key}")
    page = response.text
    assert '<img src="https://evil.example' not in page
    assert 'href="https://evil.example/pixel.png"' in page  # still reachable, by a click
    assert '<img src="https://grafana.example/g.png"' in page
    assert '<img src="/static/hindsight.css"' in page
    assert "https://grafana.example" in response.headers["content-security-policy"]
    assert "evil.example" not in response.headers["content-security-policy"]
    client.close()


def test_16_the_api_explorer_loads_only_vendored_files(browser_for: Make) -> None:
    client = browser_for(None)
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200
    assets = re.findall(r'(?:src|href)="([^"]+)"', docs.text)
    assert assets and all(asset.startswith("/static/") for asset in assets), assets
    for asset in assets:
        assert client.get(asset).status_code == 200, asset
    assert "<script>" not in docs.text  # the explorer starts from static/api-docs.js
    assert "cdn" not in docs.text.lower()


def test_19_unknown_api_paths_and_methods_answer_the_documented_json(
    browser_for: Make, app_database: Database
) -> None:
    client = browser_for(None)
    headers = _token(app_database, "owner")
    missing = client.get("/api/v1/no/such/thing", headers=headers)
    assert missing.status_code == 404 and _is_error_shape(missing.json())
    outside = client.get("/api/v2/incidents")
    assert outside.status_code == 404 and _is_error_shape(outside.json())
    options = client.options("/api/v1/incidents", headers=headers)
    assert options.status_code == 405 and _is_error_shape(options.json()), options.text
    assert set(options.headers["allow"].replace(" ", "").split(",")) == {"GET", "POST"}
    page_options = client.options("/login")
    assert page_options.status_code == 405 and "GET" in page_options.headers["allow"]
    unauthorized = client.get("/api/v1/incidents")
    assert unauthorized.status_code == 401 and _is_error_shape(unauthorized.json())


def test_19_a_database_outage_is_a_json_503_and_healthz_says_so(
    browser_for: Make, app_database: Database, tmp_path: Path
) -> None:
    settings = Settings(database_url="unused://", data_dir=tmp_path)
    app = create_app(settings, app_database)
    client = Browser(app)
    client.page("/login")
    client.submit("/login", {"username": "owner", "password": PASSWORD})
    assert client.get("/healthz").json() == {"status": "ok", "database": "ok"}
    headers = _token(app_database, "owner")
    down = open_database("postgresql://nobody@127.0.0.1:1/none", migrate=False)
    app.state.database = _api_app(app).state.database = down
    health = client.get("/healthz")
    assert health.status_code == 503 and health.json()["database"] == "unreachable"
    api = client.get("/api/v1/incidents", headers=headers)
    assert api.status_code == 503 and _is_error_shape(api.json())
    assert api.headers["retry-after"]
    page = client.get("/")
    assert page.status_code == 503 and "database is not answering" in page.text
    client.close()
    down.dispose()


def test_19_an_unexpected_api_failure_is_a_json_500(
    app_database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hindsight.web.routes import api_incidents as api_routes

    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(api_routes, "list_postmortems", broken)
    app = create_app(Settings(database_url="unused://", data_dir=tmp_path), app_database)
    client = Browser(app, raise_server_exceptions=False)
    response = client.get("/api/v1/incidents", headers=_token(app_database, "owner"))
    assert response.status_code == 500 and _is_error_shape(response.json())
    assert "a bug" not in response.text
    client.close()


def test_14_zone_names_of_256_characters_or_more_are_a_clear_error_not_a_500(
    browser_for: Make, app_database: Database
) -> None:
    key = _store(app_database)
    client = browser_for("owner")
    headers = _token(app_database, "owner")
    event = {"at": "2024-03-05T10:00:00Z", "text": "x", "zone": LONG_ZONE}
    appended = client.post(
        f"/api/v1/incidents/{key}/items/timeline",
        headers=headers,
        json={"version": 1, "item": event},
    )
    assert appended.status_code in (400, 422) and _is_error_shape(appended.json())
    client.page(f"/incidents/{key}/lists/timeline/new")
    form = client.submit(
        f"/incidents/{key}/lists/timeline",
        {"version": "1", "at": "2024-03-05T10:00", "zone": LONG_ZONE, "text": "x"},
    )
    assert form.status_code == 422 and "not a known time zone" in form.text  # type: ignore[attr-defined]
    client.page("/settings")
    profile = client.submit("/settings/profile", {"display_name": "O", "timezone": LONG_ZONE})
    assert profile.status_code in (400, 422)  # type: ignore[attr-defined]
    assert "not a known time zone" in profile.text  # type: ignore[attr-defined]


def test_14_editing_item_minus_one_of_an_empty_timeline_is_a_404(
    browser_for: Make, app_database: Database
) -> None:
    key = _store(app_database, timeline=[])
    client = browser_for("owner")
    for index in ("-1", "0", "7"):
        response = client.get(f"/incidents/{key}/lists/timeline/{index}/edit")
        assert response.status_code == 404, index
        assert "has no item" in response.text


def test_5_creating_through_the_api_cannot_skip_review(
    browser_for: Make, app_database: Database
) -> None:
    client = browser_for(None)
    headers = _token(app_database, "owner")
    born = client.post(
        "/api/v1/incidents",
        headers=headers,
        json={
            "title": "Born published",
            "severity": "SEV3",
            "postmortem": {"review_status": "published"},
        },
    )
    assert born.status_code == 422 and born.json()["error"]["field"] == "review_status"
    draft = client.post(
        "/api/v1/incidents", headers=headers, json={"title": "x", "severity": "SEV3"}
    )
    assert draft.json()["postmortem"]["review_status"] == "draft"


def test_11_a_put_without_visibility_keeps_a_restricted_incident_restricted(
    browser_for: Make, app_database: Database
) -> None:
    key = _store(app_database, key="secret", visibility="restricted")
    client = browser_for(None)
    headers = _token(app_database, "owner")
    current = client.get(f"/api/v1/incidents/{key}", headers=headers).json()
    body = {
        k: v for k, v in current["postmortem"].items() if k not in ("visibility", "review_status")
    }
    replaced = client.put(
        f"/api/v1/incidents/{key}",
        headers=headers,
        json={"version": current["version"], "postmortem": {**body, "title": "Renamed"}},
    )
    assert replaced.status_code == 200
    assert replaced.json()["postmortem"]["visibility"] == "restricted"
    assert replaced.json()["postmortem"]["title"] == "Renamed"
    outsider = _token(app_database, "outsider")
    assert client.get(f"/api/v1/incidents/{key}", headers=outsider).status_code == 404
    opened = client.put(
        f"/api/v1/incidents/{key}",
        headers=headers,
        json={
            "version": replaced.json()["version"],
            "postmortem": {**body, "visibility": "internal"},
        },
    )
    assert opened.json()["postmortem"]["visibility"] == "internal"  # said explicitly: done
