"""The search page, the search box on every page, and GET /api/v1/search."""

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
PAYLOAD = '<script>alert("x")</script> walrus <img src=x onerror=alert(1)>'


@pytest.fixture
def incidents(app_database: Database) -> None:
    with app_database.transaction() as session:
        people = {a.username: a for a, _ in list_users(session)}
        secret = make_postmortem(
            key="secret-walrus",
            title="Walrus credential leak",
            visibility="restricted",
            tags=["hush-hush"],
            severity="SEV1",
        )
        create_postmortem(session, postmortem=secret, author="owner", actor=people["owner"])
        for n in range(23):
            pm = make_postmortem(
                key=f"open-{n:02}",
                title=f"Walrus outage number {n}",
                lessons=[PAYLOAD] if n == 0 else ["Keep calm"],
                tags=["zoo"],
            )
            create_postmortem(session, postmortem=pm, author="owner", actor=people["owner"])


def test_every_page_has_a_labelled_search_box_that_slash_focuses(browser_for: Make) -> None:
    client = browser_for("reader")
    for url in ("/", "/settings", "/search"):
        page = client.page(url)
        assert '<form method="get" action="/search" role="search"' in page, url
        assert '<label for="site-search"' in page and 'aria-keyshortcuts="/"' in page, url
    script = client.get("/static/hindsight.js").text
    assert 'event.key !== "/"' in script and "data-search-box" in script
    assert "Type a word" in client.page("/search")  # the empty state
    # The page's own form is a <search> landmark, laid out one field under the other (Pico
    # lays a role=search form out as one row, too narrow on a phone).
    assert '<search><form method="get" action="/search" class="search-form">' in client.page(
        "/search?q=payroll"
    )


def test_results_are_ranked_marked_escaped_and_paged(browser_for: Make, incidents: None) -> None:
    client = browser_for("teammate")
    page = client.page("/search?q=walrus")
    assert "23 postmortems match" in page
    assert page.count('<article class="hit">') == 20
    assert "<mark>walrus</mark>" in page or "<mark>Walrus</mark>" in page
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;" in page
    assert 'href="/search?q=walrus&amp;page=2"' in page
    second = client.page("/search?q=walrus&page=2")
    assert second.count('<article class="hit">') == 3
    assert "Page 2 of 2" in second


def test_facets_filter_and_count_only_what_the_reader_may_see(
    browser_for: Make, incidents: None
) -> None:
    owner = browser_for("owner").page("/search?q=walrus")
    assert "24 postmortems match" in owner and "hush-hush" in owner
    outsider = browser_for("outsider")
    page = outsider.page("/search?q=walrus")
    assert "23 postmortems match" in page
    assert "hush-hush" not in page and "credential" not in page.lower()
    filtered = outsider.page("/search?q=walrus&severity=SEV1")
    assert "No postmortem matches" in filtered
    assert "Remove the filters" in filtered
    assert "hush-hush" not in filtered
    zoo = browser_for("owner").page("/search?q=walrus&tag=zoo")
    assert "23 postmortems match" in zoo and 'aria-current="true"' in zoo


def test_a_query_mistake_is_explained_not_a_server_error(browser_for: Make) -> None:
    client = browser_for("reader")
    response = client.get('/search?q="unclosed')
    assert response.status_code == 400
    assert "is never closed" in response.text and 'aria-invalid="true"' in response.text
    nothing = client.page("/search?q=nonexistentwordxyz+OR+otherunknownword")
    assert "No postmortem matches" in nothing and "Check the spelling" in nothing


def test_the_api_searches_with_facets_and_reports_mistakes_in_its_error_shape(
    browser_for: Make, app_database: Database, incidents: None
) -> None:
    client = browser_for(None)
    owner, outsider = _token(app_database, "owner"), _token(app_database, "outsider")
    body = client.get("/api/v1/search?q=walrus&limit=5", headers=owner).json()
    assert body["total"] == 24 and len(body["items"]) == 5 and body["query"] == "walrus"
    assert {"value": "hush-hush", "count": 1} in body["facets"]["tag"]
    scores = [item["score"] for item in body["items"]]
    assert scores == sorted(scores, reverse=True)
    first = body["items"][0]
    assert first["snippets"][0]["part"] == "title"
    assert any(s["match"] for s in first["snippets"][0]["segments"])
    theirs = client.get("/api/v1/search?q=walrus&tag=hush-hush", headers=outsider).json()
    assert theirs["total"] == 0 and theirs["items"] == [] and theirs["facets"] == {}
    bad = client.get("/api/v1/search?q=OR", headers=owner)
    assert bad.status_code == 400
    assert "OR needs a word" in bad.json()["error"]["message"]
    assert client.get("/api/v1/search", headers=owner).status_code == 422
    assert client.get("/api/v1/search?q=x").status_code == 401
    schema = client.get("/api/v1/openapi.json").json()
    assert "/search" in schema["paths"]


def test_the_api_and_the_page_filter_on_recurring(
    app_database: Database, browser_for: Make, incidents: None
) -> None:
    from hindsight.services.recurrence import link_recurrence

    with app_database.transaction() as session:
        link_recurrence(session, key="open-01", other_key="open-00", author="t")
        link_recurrence(session, key="open-02", other_key="secret-walrus", author="t")
    client = browser_for(None)
    found = client.get(
        "/api/v1/search?q=walrus&recurring=yes", headers=_token(app_database, "reader")
    ).json()
    # open-02 is linked only to the restricted incident, which the reader may not see.
    assert sorted(item["key"] for item in found["items"]) == ["open-00", "open-01"]
    assert found["facets"]["recurring"] == [{"value": "yes", "count": 2}]
    page = browser_for("reader").page("/search?q=walrus")
    assert "Recurring" in page and "recurring=yes" in page


def test_past_the_total_bound_the_page_and_the_api_say_more_than(
    browser_for: Make, app_database: Database, incidents: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hindsight.storage.search import results

    monkeypatch.setattr(results, "TOTAL_BOUND", 21)
    monkeypatch.setattr(results, "FACET_WINDOW", 10)
    page = browser_for("teammate").page("/search?q=walrus")
    assert "More than 21 postmortems match" in page and "Page 1 of 2" in page
    assert "Counts among the 10 best matches, not all of them." in page
    body = browser_for(None).get(
        "/api/v1/search?q=walrus&offset=20", headers=_token(app_database, "owner")
    )
    found = body.json()
    assert found["total"] == 21 and found["total_is_lower_bound"] is True
    assert len(found["items"]) == 1


def test_the_api_pages_only_up_to_the_total_bound(
    browser_for: Make, app_database: Database
) -> None:
    owner = _token(app_database, "owner")
    response = browser_for(None).get("/api/v1/search?q=walrus&offset=1000", headers=owner)
    assert response.status_code == 400
    assert "paged up to the first 1,000" in response.json()["error"]["message"]
