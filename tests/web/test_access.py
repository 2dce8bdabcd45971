"""Who sees what: the access matrix with personas, and untrusted text rendered inert."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hindsight.domain.access import Role
from hindsight.services.accounts import list_users
from hindsight.services.database import Database
from hindsight.services.incidents import create_postmortem
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
