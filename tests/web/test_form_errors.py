"""A refused form comes back to its page, at the form, with the reason and what was typed kept;
an in-place save after signing out elsewhere says so instead of doing nothing (issue 9, #8)."""

from __future__ import annotations

from collections.abc import Callable

from hindsight.services.database import Database
from hindsight.services.demo import load_demo
from hindsight.services.incidents import get_postmortem
from hindsight.services.reviews import list_comments
from tests.web.conftest import Browser
from tests.web.test_imports import GIT, _preview

DEMO = "2018-01-18-reddit-hugs-mybinder"
PAGE = f"/incidents/{DEMO}"
Make = Callable[[str | None], Browser]


def _demo(database: Database) -> None:
    with database.transaction() as session:
        load_demo(session, author="owner")


def _refused(client: Browser, url: str, data: dict[str, str], form: str) -> str:
    """Post from the postmortem page; the answer sends the browser back there, at `form`."""
    response = client.submit(url, data, headers={"referer": f"http://testserver{PAGE}"})
    assert response.status_code == 303, response.text[:300]  # type: ignore[attr-defined]
    assert response.headers["location"] == f"{PAGE}#{form}"  # type: ignore[attr-defined]
    return client.page(PAGE)


def test_an_unknown_reviewer_comes_back_in_the_form_with_the_names_kept(
    browser_for: Make, app_database: Database
) -> None:
    _demo(app_database)
    owner = browser_for("owner")
    owner.page(PAGE)
    page = _refused(
        owner,
        f"{PAGE}/review/request",
        {"_form": "review-request", "reviewers": "ghost"},
        "review-request",
    )
    assert "reviewers: no active account named &#39;ghost&#39;" in page
    assert 'id="review-request-problem"' in page and 'value="ghost"' in page
    assert "That did not work" not in page
    # Shown once: the next visit is clean.
    assert "no active account named" not in owner.page(PAGE)


def test_an_empty_comment_comes_back_at_its_section_and_saves_nothing(
    browser_for: Make, app_database: Database
) -> None:
    _demo(app_database)
    owner = browser_for("owner")
    owner.page(PAGE)
    form = "comment-form-impact"
    page = _refused(owner, f"{PAGE}/comments/impact", {"_form": form, "body": "   "}, form)
    assert 'id="comment-form-impact-problem"' in page and "comment: write something first" in page
    assert '<details class="comments" id="comments-impact" open>' in page
    with app_database.reading() as session:
        assert list_comments(session, key=DEMO) == []


def test_accepting_with_nothing_ticked_says_so_beside_the_suggestions(
    browser_for: Make, app_database: Database
) -> None:
    _demo(app_database)
    owner = browser_for("owner")
    owner.page(PAGE)
    window = {"since": "2018-01-18T00:00", "until": "2018-01-18T23:59", "tz": "America/Los_Angeles"}
    preview = _preview(owner, "git", GIT, **window)
    token = preview.text.split('name="upload" value="')[1].split('"')[0]
    owner.submit(
        f"{PAGE}/evidence/import", {"upload": token, "kind": "git", "channels": "", **window}
    )
    assert "suggested event waiting" in owner.page(PAGE)
    page = _refused(owner, f"{PAGE}/evidence/accept", {"_form": "suggestions"}, "suggestions")
    assert 'id="suggestions-problem"' in page and "select at least one suggested event" in page


def test_input_too_long_to_keep_in_the_session_is_shown_on_the_error_page_to_copy(
    browser_for: Make, app_database: Database
) -> None:
    _demo(app_database)
    owner = browser_for("owner")
    owner.page(PAGE)
    names = " ".join(f"ghost{i}" for i in range(400))
    response = owner.submit(
        f"{PAGE}/review/request",
        {"_form": "review-request", "reviewers": names},
        headers={"referer": f"http://testserver{PAGE}"},
    )
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert "What you sent, to copy" in response.text and "ghost399" in response.text  # type: ignore[attr-defined]


def test_a_form_from_another_site_is_not_sent_back_there(
    browser_for: Make, app_database: Database
) -> None:
    _demo(app_database)
    owner = browser_for("owner")
    owner.page(PAGE)
    response = owner.submit(
        f"{PAGE}/review/request",
        {"_form": "review-request", "reviewers": "ghost"},
        headers={"referer": "https://evil.example/incidents"},
    )
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert "no active account named" in response.text  # type: ignore[attr-defined]


def test_a_page_that_is_not_a_number_shows_the_first_page_with_a_note(
    browser_for: Make, app_database: Database
) -> None:
    _demo(app_database)
    owner = browser_for("owner")
    for raw in ("abc", "0", "-1", "9" * 30):
        page = owner.page(f"/?page={raw}")
        assert "is not a page number" in page and DEMO in page, raw
    beyond = owner.page("/?page=7")
    assert "page 7: there is only 1 page" in beyond


def test_an_in_place_save_after_signing_out_elsewhere_says_so(
    browser_for: Make, app_database: Database
) -> None:
    _demo(app_database)
    owner = browser_for("owner")
    owner.page(PAGE)
    stale = owner.csrf
    # Another tab of the same browser signs out: the cookie's session ends.
    owner.submit("/logout")
    data = {"csrf_token": stale, "version": "1", "analysis.trigger": "Kept"}
    htmx = {"HX-Request": "true", "X-CSRF-Token": stale}
    out = owner.post(f"{PAGE}/sections/analysis", data=data, headers=htmx)
    assert out.status_code == 403 and "signed out" in out.headers["X-Hindsight-Message"]
    assert "X-CSRF-Refresh" not in out.headers
    # Signed in again elsewhere: the answer hands the page the new session's token to resend.
    owner.page("/login")
    owner.post(
        "/login",
        data={"username": "owner", "password": "correct horse battery", "csrf_token": owner.csrf},
        follow_redirects=False,
    )
    again = owner.post(f"{PAGE}/sections/analysis", data=data, headers=htmx)
    assert again.status_code == 403 and again.headers["X-CSRF-Refresh"]
    fresh = {"HX-Request": "true", "X-CSRF-Token": again.headers["X-CSRF-Refresh"]}
    saved = owner.post(f"{PAGE}/sections/analysis", data=data, headers=fresh)
    assert saved.status_code == 204 and saved.headers["HX-Redirect"].startswith(PAGE)
    with app_database.reading() as session:
        assert get_postmortem(session, key=DEMO).postmortem.analysis.trigger == "Kept"
