"""Who sees what: the access matrix with personas, and untrusted text rendered inert."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from httpx import Response
from starlette.routing import BaseRoute, Mount, Route

from hindsight.domain.access import Role
from hindsight.domain.identity import derive_item_id
from hindsight.services.accounts import list_users
from hindsight.services.database import Database
from hindsight.services.incidents import create_postmortem
from hindsight.services.lint import lint_stored
from hindsight.services.reviews import add_member
from tests.factories import make_postmortem
from tests.web.conftest import Browser
from tests.web.test_api import _token

Make = Callable[[str | None], Browser]
SECRET = "breach-2024"


@pytest.fixture
def restricted(app_database: Database) -> str:
    with app_database.transaction() as session:
        owner = next(a for a, _ in list_users(session) if a.username == "owner")
        pm = make_postmortem(key=SECRET, title="Credential leak", visibility="restricted")
        create_postmortem(session, postmortem=pm, author="owner", actor=owner)
        add_member(session, key=SECRET, actor=owner, username="teammate")
    return SECRET


PAGES = [
    f"/incidents/{SECRET}",
    f"/incidents/{SECRET}/history",
    f"/incidents/{SECRET}/export.md",
    f"/incidents/{SECRET}/sections/impact/edit",
]
API = [
    f"/api/v1/incidents/{SECRET}",
    f"/api/v1/incidents/{SECRET}/history",
    f"/api/v1/incidents/{SECRET}/export",
    f"/api/v1/incidents/{SECRET}/comments",
    f"/api/v1/incidents/{SECRET}/members",
    f"/api/v1/incidents/{SECRET}/reviewers",
    f"/api/v1/incidents/{SECRET}/similar",
]


@pytest.mark.parametrize("persona", ["owner", "teammate", "boss"])
def test_members_and_admins_see_a_restricted_incident(
    browser_for: Make, app_database: Database, restricted: str, persona: str
) -> None:
    client = browser_for(persona)
    assert "Credential leak" in client.page("/")
    assert "Credential leak" in client.page("/?q=credential")
    for url in PAGES:
        assert client.get(url).status_code == 200, url
    headers = _token(app_database, persona)
    for url in API:
        assert client.get(url, headers=headers).status_code == 200, url
    listed = client.get("/api/v1/incidents", headers=headers).json()
    assert [item["key"] for item in listed["items"]] == [SECRET]


@pytest.mark.parametrize("persona", ["outsider", "reader"])
def test_outsiders_see_nothing_of_a_restricted_incident(
    browser_for: Make, app_database: Database, restricted: str, persona: str
) -> None:
    client = browser_for(persona)
    assert "Credential leak" not in client.page("/")
    assert "Credential leak" not in client.page("/?q=credential")
    for url in PAGES:
        response = client.get(url)
        assert response.status_code == 404, url
        assert "Credential leak" not in response.text
    headers = _token(app_database, persona)
    for url in API:
        assert client.get(url, headers=headers).status_code == 404, url
    assert client.get("/api/v1/incidents", headers=headers).json()["total"] == 0
    patch = client.patch(
        f"/api/v1/incidents/{SECRET}",
        headers=headers,
        json={"version": 1, "set": {"title": "pwned"}},
    )
    # A viewer is refused for its role before any lookup, so neither answer reveals the key.
    assert patch.status_code == (403 if persona == "reader" else 404)
    client.page("/")
    comment = client.submit(f"/incidents/{SECRET}/comments/impact", {"body": "hello"})
    assert comment.status_code == 404  # type: ignore[attr-defined]


def test_viewers_read_but_cannot_write(browser_for: Make, app_database: Database) -> None:
    client = browser_for("reader")
    assert "New incident" not in client.page("/")
    headers = _token(app_database, "reader")
    created = client.post(
        "/api/v1/incidents", headers=headers, json={"title": "x", "severity": "SEV3"}
    )
    assert created.status_code == 403
    assert Role.VIEWER == "viewer"


PAYLOAD = '<script>alert("x")</script><img src=x onerror=alert(1)> [click](javascript:alert(2))'


def test_script_and_javascript_links_are_inert_everywhere(
    browser_for: Make, app_database: Database
) -> None:
    with app_database.transaction() as session:
        owner = next(a for a, _ in list_users(session) if a.username == "owner")
        pm = make_postmortem(
            key="xss",
            title=PAYLOAD.replace("\n", " "),
            summary=PAYLOAD,
            services=[PAYLOAD],
            lessons=[PAYLOAD],
            analysis={"trigger": PAYLOAD, "root_causes": [PAYLOAD]},
            impact={"narrative": PAYLOAD},
            response={"communications": PAYLOAD, "went_well": [PAYLOAD]},
            timeline=[
                {
                    "at": "2024-01-01T00:00:00Z",
                    "text": PAYLOAD,
                    "actor": PAYLOAD,
                    "source": PAYLOAD,
                    "provenance": [{"origin": "<script>x</script>"}],
                }
            ],
            action_items=[{"title": PAYLOAD, "owner": PAYLOAD}],
        )
        create_postmortem(session, postmortem=pm, author="owner", actor=owner)
    client = browser_for("owner")
    client.page("/")
    client.submit("/incidents/xss/comments/impact", {"body": PAYLOAD})
    for url in ("/", "/incidents/xss", "/incidents/xss/history"):
        page = client.page(url)
        assert "<script>alert" not in page, url
        assert "<img src=x" not in page, url
        assert 'href="javascript:' not in page, url
        assert "&lt;script&gt;alert" in page, url  # shown as text, not dropped
    api = client.get("/api/v1/incidents/xss", headers=_token(app_database, "owner"))
    assert api.headers["content-type"].startswith("application/json")
    assert api.json()["postmortem"]["summary"] == PAYLOAD  # stored as written, served as data


# -- the persona matrix over every route -------------------------------------------------------
#
# Every route of the app (the API's OpenAPI paths and its other routes, and every HTML route)
# needs a case here: the test fails on a route without one, so a new route cannot skip the
# visibility check. A case is (URL with {key}, body); writes are built to change nothing that
# matters (a stale version, an empty form), so each persona sees the same incident.

MISSING = "no-such-incident-2024"
MARKERS = ("Credential leak", "ZEBRA-SUMMARY", "ZEBRA-ACTION rotate signing keys", "ZEBRA-NOTE")
ALLOWED = ("owner", "teammate", "boss")
PERSONA_NAMES = ("boss", "owner", "teammate", "outsider", "reader", None)
# Cases whose 404 is about something else than the incident (an upload gone, a hook token
# that is not the incident's: the same answer for everyone).
OWN_404 = {
    "/incidents/{key}/findings/undismiss",  # no such dismissal: its own 404
    "/incidents/{key}/evidence/import",
    "/hooks/{kind}/{key}",
    "/incidents/{key}/history/{version}/restore",
    "/incidents/{key}/history/{version}/revert",
    "/incidents/{key}/revisions/{version}/restore",
    "/incidents/{key}/revisions/{version}/revert",
    "DELETE /incidents/{key}",  # of a key next to it
}
# The ids the restricted incident's items get (derived from their content).
ACTION_ID = derive_item_id("ai", "ZEBRA-ACTION rotate signing keys")
PARTICIPANT_ID = derive_item_id("pa", "Ana")

Form = dict[str, str]
HTML_CASES: dict[tuple[str, str], tuple[str, Form | None]] = {
    ("GET", "/login"): ("/login", None),
    ("POST", "/login"): ("/login", {"username": "nobody-at-all", "password": "not this one"}),
    ("POST", "/logout"): ("/logout", {}),
    ("GET", "/settings"): ("/settings", None),
    ("POST", "/settings/profile"): ("/settings/profile", {"timezone": "Nowhere/Zone"}),
    ("POST", "/settings/password"): ("/settings/password", {"current": "not it"}),
    ("POST", "/settings/tokens"): ("/settings/tokens", {"name": "matrix"}),
    ("POST", "/settings/tokens/{token_id}/revoke"): ("/settings/tokens/999999/revoke", {}),
    ("GET", "/"): ("/?q=leak", None),
    ("GET", "/archive-import"): ("/archive-import", None),
    ("POST", "/archive-import/preview"): ("/archive-import/preview", {"zone": "Nowhere/Zone"}),
    ("POST", "/archive-import/import"): ("/archive-import/import", {"upload": "gone"}),
    ("POST", "/archive-import/cancel"): ("/archive-import/cancel", {"upload": "gone"}),
    ("GET", "/incidents/new"): ("/incidents/new", None),
    ("POST", "/incidents/new"): ("/incidents/new", {"title": ""}),
    ("GET", "/incidents/{key}"): ("/incidents/{key}", None),
    ("GET", "/incidents/{key}/history"): ("/incidents/{key}/history", None),
    ("GET", "/incidents/{key}/export.{suffix}"): ("/incidents/{key}/export.md", None),
    ("POST", "/incidents/{key}/template"): ("/incidents/{key}/template", {"template": ""}),
    ("GET", "/incidents/{key}/sections/{name}/edit"): (
        "/incidents/{key}/sections/impact/edit",
        None,
    ),
    ("POST", "/incidents/{key}/sections/{name}"): (
        "/incidents/{key}/sections/impact",
        {"version": "0"},
    ),
    ("GET", "/incidents/{key}/lists/{name}/new"): ("/incidents/{key}/lists/timeline/new", None),
    ("GET", "/incidents/{key}/lists/{name}/{item_id}/edit"): (
        f"/incidents/{{key}}/lists/actions/{ACTION_ID}/edit",
        None,
    ),
    ("POST", "/incidents/{key}/lists/{name}"): (
        "/incidents/{key}/lists/participants",
        {"version": "0"},
    ),
    ("POST", "/incidents/{key}/lists/{name}/{item_id}"): (
        f"/incidents/{{key}}/lists/participants/{PARTICIPANT_ID}",
        {"version": "0"},
    ),
    ("POST", "/incidents/{key}/lists/{name}/{item_id}/delete"): (
        f"/incidents/{{key}}/lists/participants/{PARTICIPANT_ID}/delete",
        {"version": "0"},
    ),
    ("POST", "/incidents/{key}/history/{version}/restore"): (
        "/incidents/{key}/history/999/restore",
        {"item": f"participants.{PARTICIPANT_ID}"},
    ),
    ("POST", "/incidents/{key}/history/{version}/revert"): (
        "/incidents/{key}/history/999/revert",
        {},
    ),
    ("POST", "/incidents/{key}/archive"): ("/incidents/{key}/archive", {}),
    ("POST", "/incidents/{key}/unarchive"): ("/incidents/{key}/unarchive", {}),
    ("POST", "/incidents/{key}/findings/dismiss"): (
        "/incidents/{key}/findings/dismiss",
        {"rule": "blameless/normative", "field": "summary", "reason": "matrix"},
    ),
    ("POST", "/incidents/{key}/findings/undismiss"): (
        "/incidents/{key}/findings/undismiss",
        {"rule": "blameless/normative", "field": "summary"},
    ),
    ("POST", "/incidents/{key}/delete"): ("/incidents/{key}/delete", {"confirm": "not the key"}),
    ("POST", "/incidents/{key}/evidence/cancel"): ("/incidents/{key}/evidence/cancel", {}),
    ("GET", "/admin/users"): ("/admin/users", None),
    ("POST", "/admin/users/{username}/role"): ("/admin/users/ghost/role", {"role": "viewer"}),
    ("GET", "/admin/users/{username}/disable"): ("/admin/users/ghost/disable", None),
    ("POST", "/admin/users/{username}/disable"): ("/admin/users/ghost/disable", {}),
    ("POST", "/admin/users/{username}/enable"): ("/admin/users/ghost/enable", {}),
    ("POST", "/settings/sessions/{session_id}/end"): ("/settings/sessions/999999/end", {}),
    ("POST", "/settings/sessions/end-all"): ("/settings/sessions/end-all", {}),
    ("GET", "/settings/notifications"): ("/settings/notifications", None),
    ("POST", "/settings/notifications/channels"): (
        "/settings/notifications/channels",
        {"kind": "email", "target": "matrix@example.org"},
    ),
    ("POST", "/settings/notifications/channels/{channel_id}/remove"): (
        "/settings/notifications/channels/999999/remove",
        {},
    ),
    ("GET", "/admin/deliveries"): ("/admin/deliveries?status=failed", None),
    ("POST", "/incidents/{key}/reports/pdf"): ("/incidents/{key}/reports/pdf", {}),
    ("GET", "/jobs/{job_id}"): ("/jobs/999999", None),
    ("GET", "/jobs/{job_id}/download"): ("/jobs/999999/download", None),
    ("POST", "/settings/notifications/calendar"): ("/settings/notifications/calendar", {}),
    ("POST", "/settings/notifications/calendar/revoke"): (
        "/settings/notifications/calendar/revoke",
        {},
    ),
    ("GET", "/calendar/{secret}.ics"): ("/calendar/not-a-feed.ics", None),
    ("POST", "/incidents/{key}/review/request"): ("/incidents/{key}/review/request", {}),
    ("POST", "/incidents/{key}/review/decide"): (
        "/incidents/{key}/review/decide",
        {"decision": "approve"},
    ),
    ("POST", "/incidents/{key}/review/publish"): ("/incidents/{key}/review/publish", {}),
    ("POST", "/incidents/{key}/review/reopen"): ("/incidents/{key}/review/reopen", {"reason": "x"}),
    ("POST", "/incidents/{key}/members"): ("/incidents/{key}/members", {"username": "ghost"}),
    ("POST", "/incidents/{key}/comments/{section}"): (
        "/incidents/{key}/comments/nowhere",
        {"body": "x"},
    ),
    ("POST", "/incidents/{key}/evidence/preview"): ("/incidents/{key}/evidence/preview", {}),
    ("POST", "/incidents/{key}/evidence/import"): ("/incidents/{key}/evidence/import", {}),
    ("POST", "/incidents/{key}/evidence/{decision}"): ("/incidents/{key}/evidence/accept", {}),
    ("POST", "/incidents/{key}/moments"): ("/incidents/{key}/moments", {}),
    ("POST", "/incidents/{key}/hook-token"): ("/incidents/{key}/hook-token", {}),
    ("POST", "/incidents/{key}/recurrence"): (
        "/incidents/{key}/recurrence",
        {"other": "probe", "action": "dismiss"},
    ),
    ("POST", "/incidents/{key}/candidates/accept"): (
        "/incidents/{key}/candidates/accept",
        {"ref": "timeline:x", "as": "factor"},
    ),
    ("GET", "/incidents/{key}/seen-before"): ("/incidents/{key}/seen-before", None),
    ("GET", "/healthz"): ("/healthz", None),
    # Words of the restricted incident only (its title, its lesson), and a facet filter of it.
    ("GET", "/search"): ("/search?q=leak+OR+vault&severity=SEV2", None),
    ("POST", "/incidents/{key}/impact/accept"): (
        "/incidents/{key}/impact/accept",
        {"field": "no_such_field"},
    ),
    # Cross-postmortem views: filtered to the restricted item's owner (the probe's item with
    # the same title is internal); a bulk change names the restricted incident's key.
    ("GET", "/actions"): ("/actions?who=all&owner=Ana", None),
    ("GET", "/actions.csv"): ("/actions.csv?who=all&owner=Ana", None),
    ("POST", "/actions/status"): (
        "/actions/status",
        {"item": f"{SECRET}|ai-000000|1", "status": "done"},
    ),
    ("POST", "/actions/export"): (
        "/actions/export",
        {"item": f"{SECRET}|{ACTION_ID}|1", "tracker": "github"},
    ),
    ("POST", "/incidents/{key}/actions/{item_id}/export"): (
        f"/incidents/{{key}}/actions/{ACTION_ID}/export",
        {"tracker": "github"},
    ),
    ("GET", "/insights"): ("/insights?from=2000-01-01", None),
    ("GET", "/insights/{slug}.csv"): ("/insights/top-factors.csv?from=2000-01-01", None),
    ("GET", "/incidents.csv"): ("/incidents.csv?q=leak", None),
}
Json = dict[str, object]
API_CASES: dict[tuple[str, str], tuple[str, Json | None]] = {
    ("GET", "/me/channels"): ("/me/channels", None),
    ("POST", "/incidents/{key}/action-items/{item_id}/export"): (
        f"/incidents/{{key}}/action-items/{ACTION_ID}/export",
        {"tracker": "github"},
    ),
    ("POST", "/action-items/export"): (
        "/action-items/export",
        {"tracker": "jira", "items": [{"key": SECRET, "item_id": ACTION_ID}]},
    ),
    ("POST", "/trackers/{tracker}/webhook"): (
        "/trackers/github/webhook",
        {"action": "closed", "issue": {"html_url": "https://github.com/a/b/issues/1"}},
    ),
    ("POST", "/me/channels"): ("/me/channels", {"kind": "email", "target": "api@example.org"}),
    ("DELETE", "/me/channels/{channel_id}"): ("/me/channels/999999", None),
    ("GET", "/deliveries"): ("/deliveries?status=failed", None),
    ("POST", "/incidents/{key}/reports/pdf"): ("/incidents/{key}/reports/pdf", {}),
    ("GET", "/jobs/{job_id}"): ("/jobs/999999", None),
    ("GET", "/jobs/{job_id}/download"): ("/jobs/999999/download", None),
    ("GET", "/openapi.json"): ("/openapi.json", None),
    ("GET", "/docs"): ("/docs", None),
    ("GET", "/incidents"): ("/incidents?q=leak", None),
    ("POST", "/archive-import"): ("/archive-import", {"reports": [], "format": "nope"}),
    ("POST", "/incidents"): ("/incidents", {"title": "t", "severity": "SEV9"}),
    ("GET", "/incidents/{key}"): ("/incidents/{key}", None),
    ("PUT", "/incidents/{key}"): ("/incidents/{key}", {"version": 0, "postmortem": {}}),
    ("PATCH", "/incidents/{key}"): ("/incidents/{key}", {"version": 0, "set": {"title": "x"}}),
    ("POST", "/incidents/{key}/items/{path}"): (
        "/incidents/{key}/items/lessons",
        {"version": 0, "item": "x"},
    ),
    ("DELETE", "/incidents/{key}/items/{path}"): (
        "/incidents/{key}/items/lessons.0?version=0",
        None,
    ),
    ("GET", "/incidents/{key}/history"): ("/incidents/{key}/history", None),
    ("GET", "/incidents/{key}/export"): ("/incidents/{key}/export", None),
    ("GET", "/incidents/{key}/reviewers"): ("/incidents/{key}/reviewers", None),
    ("POST", "/incidents/{key}/review/request"): (
        "/incidents/{key}/review/request",
        {"reviewers": []},
    ),
    ("POST", "/incidents/{key}/review/decide"): (
        "/incidents/{key}/review/decide",
        {"approve": True},
    ),
    ("POST", "/incidents/{key}/review/publish"): ("/incidents/{key}/review/publish", {}),
    ("POST", "/incidents/{key}/review/reopen"): ("/incidents/{key}/review/reopen", {"reason": "x"}),
    ("GET", "/incidents/{key}/comments"): ("/incidents/{key}/comments", None),
    ("POST", "/incidents/{key}/comments"): (
        "/incidents/{key}/comments",
        {"section": "nowhere", "body": "x"},
    ),
    ("GET", "/incidents/{key}/members"): ("/incidents/{key}/members", None),
    ("POST", "/incidents/{key}/members"): ("/incidents/{key}/members", {"username": "ghost"}),
    ("GET", "/me"): ("/me", None),
    ("GET", "/tokens"): ("/tokens", None),
    ("POST", "/incidents/{key}/revisions/{version}/revert"): (
        "/incidents/{key}/revisions/999/revert",
        None,
    ),
    ("POST", "/incidents/{key}/revisions/{version}/restore"): (
        "/incidents/{key}/revisions/999/restore",
        {"item": f"participants.{PARTICIPANT_ID}"},
    ),
    ("POST", "/incidents/{key}/archive"): ("/incidents/{key}/archive", {}),
    ("POST", "/incidents/{key}/unarchive"): ("/incidents/{key}/unarchive", {}),
    ("GET", "/incidents/{key}/findings"): ("/incidents/{key}/findings", None),
    ("POST", "/incidents/{key}/findings/dismiss"): (
        "/incidents/{key}/findings/dismiss",
        {"rule": "blameless/normative", "field": "summary", "reason": "matrix"},
    ),
    ("POST", "/incidents/{key}/findings/undismiss"): (
        "/incidents/{key}/findings/undismiss",
        {"rule": "blameless/normative", "field": "summary"},
    ),
    # Not the restricted incident itself (an admin would delete it for every later case): a
    # key that differs only by a suffix, still compared with the missing one.
    ("DELETE", "/incidents/{key}"): ("/incidents/{key}-gone", None),
    ("POST", "/tokens"): ("/tokens", {"name": "matrix"}),
    ("DELETE", "/tokens/{token_id}"): ("/tokens/999999", None),
    ("POST", "/hooks/{kind}/{key}"): ("/hooks/alertmanager/{key}", {"alerts": []}),
    ("GET", "/incidents/{key}/similar"): ("/incidents/{key}/similar", None),
    ("POST", "/incidents/{key}/recurrence"): (
        "/incidents/{key}/recurrence",
        {"other": "probe", "action": "dismiss"},
    ),
    ("GET", "/search"): ("/search?q=leak+OR+vault&severity=SEV2", None),
    ("GET", "/incidents/{key}/candidates"): ("/incidents/{key}/candidates", None),
    ("POST", "/incidents/{key}/candidates/accept"): (
        "/incidents/{key}/candidates/accept",
        {"ref": "timeline:x", "as": "factor"},
    ),
    ("GET", "/incidents/{key}/impact"): ("/incidents/{key}/impact", None),
    ("POST", "/incidents/{key}/impact/accept"): (
        "/incidents/{key}/impact/accept",
        {"fields": ["no_such_field"]},
    ),
    ("POST", "/incidents/{key}/metrics"): (
        "/incidents/{key}/metrics",
        {"role": "no-such-role", "content": ""},
    ),
    ("GET", "/action-items"): ("/action-items?owner=Ana", None),
    ("GET", "/action-items.csv"): ("/action-items.csv?owner=Ana", None),
    ("POST", "/action-items/status"): (
        "/action-items/status",
        {"items": [{"key": SECRET, "item_id": "ai-000000"}], "status": "done"},
    ),
    ("GET", "/insights"): ("/insights?from=2000-01-01", None),
}


def _routes(routes: Iterable[BaseRoute]) -> Iterator[tuple[str, str]]:
    """(method, path) of every route, through included routers; mounts are listed apart."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _routes(included.routes)
        elif isinstance(route, APIRoute | Route):
            for method in sorted((route.methods or set()) - {"HEAD"}):
                yield method, route.path


def _api(app: FastAPI) -> FastAPI:
    mount = next(r for r in app.routes if isinstance(r, Mount) and r.path == "/api/v1")
    api: FastAPI = mount.app  # type: ignore[assignment]
    return api


def _every_route(
    app: FastAPI, client: Browser
) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    html = set(_routes(app.routes))
    documented = client.get("/api/v1/openapi.json").json()["paths"]
    api = {(method.upper(), path) for path, ops in documented.items() for method in ops}
    return html, api | set(_routes(_api(app).routes))


def _normalised(response: Response, key: str) -> tuple[int, str]:
    """Status and body with the asked-for key and per-request tokens masked."""
    body = response.text.replace(key, "KEY")
    body = re.sub(r'name="csrf_token" value="[^"]+"', "CSRF", body)
    body = re.sub(r"X-CSRF-Token&#34;: &#34;[^&]+&#34;|\"X-CSRF-Token\": \"[^\"]+\"", "CSRF", body)
    location = response.headers.get("location", "").replace(key, "KEY")
    return response.status_code, f"{location}\n{body}"


def _send(
    client: Browser,
    spec: tuple[str, object | None],
    method: str,
    key: str,
    api: bool,
    headers: dict[str, str],
) -> Response:
    url, body = spec
    url = url.replace("{key}", key)
    if api:
        return client.request(
            method, "/api/v1" + url, json=body, headers=headers, follow_redirects=False
        )
    if method == "GET":
        return client.get(url, follow_redirects=False)
    return client.post(
        url,
        data={"csrf_token": client.csrf, **(body or {})},
        follow_redirects=False,  # type: ignore[dict-item]
    )


@pytest.fixture
def matrix_incidents(app_database: Database) -> None:
    with app_database.transaction() as session:
        people = {a.username: a for a, _ in list_users(session)}
        secret = make_postmortem(
            key=SECRET,
            title="Credential leak",
            summary="ZEBRA-SUMMARY of what leaked",
            visibility="restricted",
            lessons=["ZEBRA-NOTE keep keys in the vault"],
            action_items=[
                {"title": "ZEBRA-ACTION rotate signing keys", "owner": "Ana", "due": "2024-05-01"}
            ],
        )
        create_postmortem(session, postmortem=secret, author="owner", actor=people["owner"])
        add_member(session, key=SECRET, actor=people["owner"], username="teammate")
        # The outsider's own incident probes the lint cross-reference with the same item.
        probe = make_postmortem(
            key="probe",
            action_items=[
                {"title": "ZEBRA-ACTION rotate signing keys", "owner": "Bo", "due": "2024-05-01"}
            ],
        )
        create_postmortem(session, postmortem=probe, author="outsider", actor=people["outsider"])


def test_every_route_has_a_persona_case_and_no_persona_sees_a_restricted_incident(
    browser_for: Make, app_database: Database, matrix_incidents: None
) -> None:
    clients = {name: browser_for(name) for name in PERSONA_NAMES}
    tokens = {name: _token(app_database, name) if name else {} for name in PERSONA_NAMES}
    html_routes, api_routes = _every_route(_app_of(clients[None]), clients[None])
    assert html_routes - set(HTML_CASES) == set(), "HTML routes without a persona case"
    assert api_routes - set(API_CASES) == set(), "API routes without a persona case"
    assert set(HTML_CASES) - html_routes == set() and set(API_CASES) - api_routes == set()

    found: dict[str, list[str]] = {"failure": [], "leak": [], "oracle": []}
    cases = [(False, m, p, s) for (m, p), s in HTML_CASES.items()]
    cases += [(True, m, p, s) for (m, p), s in API_CASES.items()]
    # Signing out (here or everywhere) last.
    cases.sort(key=lambda case: case[2] in ("/logout", "/settings/sessions/end-all"))
    for name in PERSONA_NAMES:
        clients[name].page("/login")  # a fresh CSRF token for the forms
        for case in cases:
            for kind, message in _judge(name, clients[name], tokens[name], case):
                found[kind].append(message)
        # The lint side channel: the probe's page must not name the restricted incident.
        if name in ("outsider", "reader"):
            probe = clients[name].get("/incidents/probe").text
            if SECRET in probe or "looks like the open item" in probe:
                found["leak"].append(f"{name}: lint on /incidents/probe names {SECRET}")
    failures, leaks, oracles = found["failure"], found["leak"], found["oracle"]
    assert failures == [], "\n".join(failures)
    assert leaks == [], "\n".join(leaks)
    assert oracles == [], "\n".join(oracles)
    # The cross-reference still helps those who may see both incidents (every client has
    # signed out by now, so ask the service).
    with app_database.reading() as session:
        boss = next(a for a, _ in list_users(session) if a.username == "boss")
        report = lint_stored(session, key="probe", actor=boss)
    assert any(SECRET in finding.message for finding in report.findings)


def _judge(
    name: str | None,
    client: Browser,
    headers: dict[str, str],
    case: tuple[bool, str, str, tuple[str, object | None]],
) -> Iterator[tuple[str, str]]:
    """What is wrong with one persona's answer to one case: a server error, a 404 for someone
    who may see the incident, a marker of the incident for someone who may not, or an answer
    that differs from the one for a missing key."""
    api, method, path, spec = case
    where = f"{name}: {method} {'/api/v1' if api else ''}{path}"
    answer = _send(client, spec, method, SECRET, api, headers)
    if answer.status_code >= 500:
        yield "failure", f"{where}: {answer.status_code}"
    if name in ALLOWED:
        own_404 = path in OWN_404 or f"{method} {path}" in OWN_404
        if "{key}" in path and answer.status_code == 404 and not own_404:
            yield "failure", f"{where}: 404 for a persona who may see it"
        return
    leaked = [marker for marker in MARKERS if marker in answer.text]
    if leaked:
        yield "leak", f"{where}: {leaked}"
    if "{key}" in path:
        missing = _send(client, spec, method, MISSING, api, headers)
        if _normalised(answer, SECRET) != _normalised(missing, MISSING):
            yield "oracle", f"{where}: {answer.status_code} vs {missing.status_code}"


def _app_of(client: Browser) -> FastAPI:
    app: FastAPI = client.app  # type: ignore[assignment]
    return app
