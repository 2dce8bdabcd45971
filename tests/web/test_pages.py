"""The minimal web pages: the incident list, a postmortem, its exports."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from hindsight.config import Settings
from hindsight.services.database import Database
from hindsight.services.demo import demo_document, load_demo
from hindsight.web.app import create_app
from tests.factories import make_incident

DEMO = "2018-01-18-reddit-hugs-mybinder"


@pytest.fixture
def client(fresh_database: Database) -> Iterator[TestClient]:
    app = create_app(Settings(database_url="unused://"), fresh_database)
    with TestClient(app) as test_client:
        yield test_client


def test_an_empty_list_says_how_to_start(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert "No incidents yet" in page.text and "hindsight demo" in page.text


def test_the_demo_is_listed_and_readable(client: TestClient, fresh_database: Database) -> None:
    with fresh_database.transaction() as session:
        load_demo(session, author="demo")
    listing = client.get("/")
    assert f'href="/incidents/{DEMO}"' in listing.text and "SEV2" in listing.text
    page = client.get(f"/incidents/{DEMO}")
    assert page.status_code == 200
    for heading in (
        "Overview",
        "Timeline",
        "Root cause analysis",
        "Impact",
        "Response",
        "Lessons learned",
        "Action items",
    ):
        assert f">{heading}</h" in page.text
    assert "<td>2h 59m</td>" in page.text
    assert client.get(f"/incidents/{DEMO}/export.md").text == demo_document()


def test_script_in_prose_is_rendered_inert(client: TestClient, fresh_database: Database) -> None:
    payload = "<script>alert(1)</script> [x](javascript:alert(2))"
    with fresh_database.transaction() as session:
        make_incident(session, summary=payload, title="<img src=x onerror=alert(3)>")
    page = client.get("/incidents/2024-03-05-checkout-errors")
    assert "<script>alert(1)" not in page.text and "&lt;script&gt;" in page.text
    assert 'href="javascript:' not in page.text
    assert "<img src=x" not in page.text


def test_unknown_incidents_and_formats_are_404(client: TestClient) -> None:
    assert client.get("/incidents/nope").status_code == 404
    assert client.get("/incidents/nope/export.md").status_code == 404
    assert client.get("/incidents/nope/export.pdf").status_code == 404
