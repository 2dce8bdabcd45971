"""Pages: sign-in, list, new incident, the postmortem page, editing, review, history."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from hindsight.services.database import Database
from hindsight.services.demo import load_demo
from hindsight.services.incidents import get_postmortem, list_revisions
from tests.web.conftest import PASSWORD, Browser

DEMO = "2018-01-18-reddit-hugs-mybinder"
Make = Callable[[str | None], Browser]


def _demo(database: Database) -> None:
    with database.transaction() as session:
        load_demo(session, author="demo")


def test_pages_need_a_signed_in_account(browser_for: Make) -> None:
    anonymous = browser_for(None)
    response = anonymous.get("/incidents/x?tab=1", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/incidents/x?tab=1"


def test_a_wrong_password_is_refused_and_repeated_failures_are_limited(browser_for: Make) -> None:
    client = browser_for(None)
    for _ in range(3):
        response = client.submit("/login", {"username": "owner", "password": "wrong guess!"})
        assert response.status_code == 401  # type: ignore[attr-defined]
        assert "wrong username or password" in response.text  # type: ignore[attr-defined]
    # The fourth try within a second of the third waits (a delay that grows, not a lockout).
    limited = client.submit("/login", {"username": "owner", "password": PASSWORD})
    assert limited.status_code == 429  # type: ignore[attr-defined]
    assert "and try again" in limited.text  # type: ignore[attr-defined]
    assert limited.headers["retry-after"] == "1"  # type: ignore[attr-defined]


def test_login_never_redirects_off_site(browser_for: Make) -> None:
    client = browser_for(None)
    response = client.submit(
        "/login", {"username": "owner", "password": PASSWORD, "next": "//evil.example/"}
    )
    assert response.headers["location"] == "/"  # type: ignore[attr-defined]


def test_an_empty_list_says_how_to_start(browser_for: Make) -> None:
    page = browser_for("owner").page("/")
    assert "No incidents yet" in page and 'href="/incidents/new"' in page


def test_an_incident_is_created_from_the_form(browser_for: Make, app_database: Database) -> None:
    client = browser_for("owner")
    client.page("/incidents/new")
    bad = client.submit("/incidents/new", {"title": "  ", "severity": "SEV2", "date": "2024-03-05"})
    assert bad.status_code == 422 and "is required" in bad.text  # type: ignore[attr-defined]
    response = client.submit(
        "/incidents/new",
        {
            "title": "Checkout errors",
            "severity": "SEV2",
            "date": "2024-03-05",
            "services": "checkout\npayments",
            "summary": "Orders failed.",
        },
    )
    assert response.headers["location"] == "/incidents/2024-03-05-checkout-errors"  # type: ignore[attr-defined]
    page = client.page("/incidents/2024-03-05-checkout-errors")
    assert "Checkout errors" in page and "checkout, payments" in page
    listing = client.page("/?severity=SEV2")
    assert "2024-03-05-checkout-errors" in listing
    assert "No incident matches" in client.page("/?severity=SEV1")


def test_the_list_paginates(browser_for: Make, app_database: Database) -> None:
    client = browser_for("owner")
    for number in range(27):
        client.page("/incidents/new")
        client.submit(
            "/incidents/new",
            {"title": f"Incident {number:02d}", "severity": "SEV3", "date": "2024-01-01"},
        )
    first = client.page("/?size=25")
    assert "Page 1 of 2" in first and first.count('class="muted small">2024-01-01-') == 25
    second = client.page("/?size=25&page=2")
    assert second.count('class="muted small">2024-01-01-') == 2 and "← Previous" in second


def test_the_next_link_keeps_repeated_filters(browser_for: Make, app_database: Database) -> None:
    """Issue 9, finding 5: the Next link kept one of `?severity=SEV1&severity=SEV2`, so page 2
    said "Page 2 of 1" over an empty table."""
    import re

    client = browser_for("owner")
    for number in range(39):
        client.page("/incidents/new")
        severity = ("SEV1", "SEV2", "SEV3")[number % 3]
        client.submit(
            "/incidents/new",
            {"title": f"Incident {number:02d}", "severity": severity, "date": "2024-01-01"},
        )
    first = client.page("/?severity=SEV1&severity=SEV2&size=25")
    assert "26 incidents match" in first and "Page 1 of 2" in first
    link = re.search(r'href="(/\?[^"]*page=2[^"]*)"', first)
    assert link is not None
    target = link.group(1).replace("&amp;", "&")
    assert "severity=SEV1" in target and "severity=SEV2" in target
    second = client.page(target)
    assert "Page 2 of 2" in second and second.count('class="muted small">2024-01-01-') == 1


def test_every_part_is_shown_with_computed_metrics(
    browser_for: Make, app_database: Database
) -> None:
    _demo(app_database)
    page = browser_for("reader").page(f"/incidents/{DEMO}")
    for heading in (
        "1. Overview",
        "Timeline",
        "2. Root cause analysis",
        "3. Impact",
        "4. Response",
        "5. Lessons learned",
        "6. Action items",
        "Review",
    ):
        assert heading in page
    assert "<strong>2h 59m</strong>" in page  # time to resolve
    assert "incident-reports/2018-01-18-reddit-hug.md#L12" in page  # provenance
    assert ">Edit<" not in page  # a viewer cannot edit


def test_a_section_is_edited_in_place_and_recorded(
    browser_for: Make, app_database: Database
) -> None:
    _demo(app_database)
    client = browser_for("owner")
    form = client.page(f"/incidents/{DEMO}/sections/impact/edit")
    assert 'name="impact.users_affected"' in form and 'name="version" value="1"' in form
    response = client.submit(
        f"/incidents/{DEMO}/sections/impact",
        {
            "version": "1",
            "impact.users_affected": "5400",
            "impact.narrative": "Launches failed.",
        },
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 204, response.text[-3000:]  # type: ignore[attr-defined]
    assert response.headers["HX-Redirect"] == f"/incidents/{DEMO}?v=2#sec-impact"  # type: ignore[attr-defined]
    with app_database.transaction() as session:
        stored = get_postmortem(session, key=DEMO)
        assert stored.postmortem.impact.users_affected == 5400
        last = list_revisions(session, key=DEMO)[-1]
    assert last.author == "owner"
    assert ("impact.users_affected", None, 5400) in [(c.field, c.old, c.new) for c in last.changes]


def test_invalid_input_comes_back_with_the_reason_and_what_was_typed(
    browser_for: Make, app_database: Database
) -> None:
    _demo(app_database)
    client = browser_for("owner")
    client.page(f"/incidents/{DEMO}/sections/impact/edit")
    response = client.submit(
        f"/incidents/{DEMO}/sections/impact",
        {
            "version": "1",
            "impact.users_affected": "-3",
            "impact.narrative": "My careful words",
        },
    )
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert "must be zero or more" in response.text  # type: ignore[attr-defined]
    assert "My careful words" in response.text  # type: ignore[attr-defined]


def test_a_stale_form_gets_a_conflict_and_keeps_the_typing(
    browser_for: Make, app_database: Database
) -> None:
    _demo(app_database)
    with app_database.transaction() as session:
        lesson = get_postmortem(session, key=DEMO).postmortem.lessons[0]
    first, second = browser_for("owner"), browser_for("teammate")
    form = f"/incidents/{DEMO}/lists/lessons/{lesson.id}"
    first.page(form + "/edit")
    second.page(form + "/edit")
    saved = first.submit(form, {"version": "1", "text": "First lesson"})
    assert saved.status_code == 303  # type: ignore[attr-defined]
    late = second.submit(form, {"version": "1", "text": "Second writer's lesson"})
    assert late.status_code == 409  # type: ignore[attr-defined]
    assert "Someone else changed the same fields" in late.text  # type: ignore[attr-defined]
    assert "Second writer&#39;s lesson" in late.text  # type: ignore[attr-defined]
    assert "First lesson" in late.text  # type: ignore[attr-defined] - theirs, shown beside
    # The form keeps the version it was drawn from, so "keep mine" merges from there.
    assert 'name="version" value="1"' in late.text  # type: ignore[attr-defined]
    with app_database.transaction() as session:
        assert get_postmortem(session, key=DEMO).postmortem.lessons[0].text == "First lesson"
    kept = second.submit(form, {"version": "1", "text": "Second writer's lesson", "force": "1"})
    assert kept.status_code == 303  # type: ignore[attr-defined]
    with app_database.transaction() as session:
        lessons = get_postmortem(session, key=DEMO).postmortem.lessons
    assert lessons[0].text == "Second writer's lesson" and len(lessons) == 3


def test_timeline_events_and_action_items_are_added_and_checked(
    browser_for: Make, app_database: Database
) -> None:
    _demo(app_database)
    client = browser_for("owner")
    client.page(f"/incidents/{DEMO}/lists/timeline/new")
    added = client.submit(
        f"/incidents/{DEMO}/lists/timeline",
        {
            "version": "1",
            "at": "2018-01-18T06:53:12",
            "zone": "America/Los_Angeles",
            "text": "Merged #287: ingress replicas 5 to 10",
            "kind": "deploy",
            "source": "git",
        },
    )
    assert added.status_code == 303  # type: ignore[attr-defined]
    client.page(f"/incidents/{DEMO}/lists/actions/new")
    refused = client.submit(
        f"/incidents/{DEMO}/lists/actions",
        {
            "version": "2",
            "title": "Alert on failed launches",
            "kind": "detect",
            "priority": "P2",
            "status": "wont_do",
            "reason": "",
        },
    )
    assert refused.status_code == 422  # type: ignore[attr-defined]
    assert "needs a reason" in refused.text  # type: ignore[attr-defined]
    with app_database.transaction() as session:
        pm = get_postmortem(session, key=DEMO).postmortem
    event = next(e for e in pm.timeline if e.source == "git")
    assert event.at.isoformat() == "2018-01-18T14:53:12+00:00"
    assert len(pm.action_items) == 6


def test_review_request_approve_publish_lock_and_reopen(
    browser_for: Make, app_database: Database
) -> None:
    _demo(app_database)
    owner, teammate = browser_for("owner"), browser_for("teammate")
    owner.page(f"/incidents/{DEMO}")
    owner.submit(f"/incidents/{DEMO}/review/request", {"reviewers": "teammate"})
    page = teammate.page(f"/incidents/{DEMO}")
    assert "Approve" in page
    teammate.submit(f"/incidents/{DEMO}/review/decide", {"decision": "approve", "note": ""})
    owner.page(f"/incidents/{DEMO}")
    owner.submit(f"/incidents/{DEMO}/review/publish")
    published = owner.page(f"/incidents/{DEMO}")
    assert "Published: read-only" in published
    with app_database.transaction() as session:
        pm = get_postmortem(session, key=DEMO).postmortem
    lesson, action = pm.lessons[0], pm.action_items[0]
    locked = owner.submit(
        f"/incidents/{DEMO}/lists/lessons/{lesson.id}", {"version": "4", "text": "x"}
    )
    assert locked.status_code == 422  # type: ignore[attr-defined]
    assert "published and read-only" in locked.text  # type: ignore[attr-defined]
    done = owner.submit(
        f"/incidents/{DEMO}/lists/actions/{action.id}",
        {
            "version": "4",
            "title": "Gather the commands used in incident response and add them to the SRE guide",
            "kind": "process",
            "priority": "P3",
            "status": "done",
        },
    )
    assert done.status_code == 303  # type: ignore[attr-defined]
    owner.submit(f"/incidents/{DEMO}/review/reopen", {"reason": "New evidence from the logs"})
    history = owner.page(f"/incidents/{DEMO}/history")
    for text in (
        "request review",
        "approve",
        "publish",
        "reopen",
        "New evidence from the logs",
        "review status",
    ):
        assert text in history


def test_a_post_without_the_csrf_token_is_refused(
    browser_for: Make, app_database: Database
) -> None:
    _demo(app_database)
    client = browser_for("owner")
    response = client.post(
        f"/incidents/{DEMO}/sections/analysis",
        data={"version": "1", "analysis.trigger": "Sneaky"},
        follow_redirects=False,
    )
    assert response.status_code == 403 and "expired" in response.text
    forged = client.post(
        f"/incidents/{DEMO}/sections/analysis",
        follow_redirects=False,
        data={"version": "1", "analysis.trigger": "Sneaky", "csrf_token": "guess"},
    )
    assert forged.status_code == 403
    with app_database.transaction() as session:
        assert get_postmortem(session, key=DEMO).version == 1


def test_settings_create_a_token_once_and_change_the_password(browser_for: Make) -> None:
    client = browser_for("owner")
    client.page("/settings")
    created = client.submit("/settings/tokens", {"name": "ci"})
    # Issue 9, finding 8: the POST redirects, so a reload cannot make a second token.
    assert created.status_code == 303  # type: ignore[attr-defined]
    shown = client.page("/settings")
    assert "shown once" in shown and "hs_" in shown
    assert "hs_" not in client.page("/settings").split("Starts with")[0]
    with_token = client.get("/api/v1/tokens").json()  # the session may list them
    assert [t["name"] for t in with_token] == ["ci"]
    wrong = client.submit(
        "/settings/password",
        {"current": "nope", "new": "another long pw", "repeat": "another long pw"},
    )
    assert "current password is wrong" in wrong.text  # type: ignore[attr-defined]
    ok = client.submit(
        "/settings/password",
        {"current": PASSWORD, "new": "another long pw", "repeat": "another long pw"},
    )
    assert "Password changed" in ok.text  # type: ignore[attr-defined]


def test_the_page_shows_the_review_checklist_and_publishing_past_errors_needs_a_reason(
    browser_for: Make, app_database: Database
) -> None:
    from hindsight.services.accounts import list_users
    from hindsight.services.incidents import update_postmortem
    from hindsight.services.reviews import decide, request_review

    _demo(app_database)
    with app_database.transaction() as session:
        update_postmortem(
            session,
            key=DEMO,
            author="demo",
            change=lambda pm: replace(pm, summary="", lessons=(*pm.lessons, "It was human error.")),
        )
    owner = browser_for("owner")
    page = owner.page(f"/incidents/{DEMO}")
    assert "Review checklist" in page and "blameless/human-error" in page
    assert "counted per problem" in page and "language problem" in page
    with app_database.transaction() as session:
        actors = {actor.username: actor for actor, _ in list_users(session)}
        request_review(session, key=DEMO, actor=actors["owner"], reviewers=["teammate"])
        decide(session, key=DEMO, actor=actors["teammate"], approve=True)
    page = owner.page(f"/incidents/{DEMO}")
    assert 'name="override"' in page
    refused = owner.submit(f"/incidents/{DEMO}/review/publish")
    assert refused.status_code == 400  # type: ignore[attr-defined]
    assert "error-level lint finding" in refused.text  # type: ignore[attr-defined]
    done = owner.submit(
        f"/incidents/{DEMO}/review/publish",
        {"override": "summary rewritten in the external notice"},
    )
    assert done.status_code == 303  # type: ignore[attr-defined]
    with app_database.reading() as session:
        last = list_revisions(session, key=DEMO)[-1]
        assert last.note == (
            "published over 1 lint error: summary rewritten in the external notice"
        )


def test_reports_download_as_html_and_pdf_in_any_template_and_a_default_can_be_chosen(
    browser_for: Make, app_database: Database
) -> None:
    _demo(app_database)
    owner = browser_for("owner")
    page = owner.page(f"/incidents/{DEMO}")
    assert 'id="reports"' in page and '<figure class="chart"><svg' in page
    html = owner.get(f"/incidents/{DEMO}/export.html?template=classic")
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert "Corrective and preventative measures" in html.text
    pdf = owner.get(f"/incidents/{DEMO}/export.pdf?template=executive")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    bad = owner.get(f"/incidents/{DEMO}/export.html?template=nope")
    assert bad.status_code == 400 and "no template named" in bad.text
    chosen = owner.submit(f"/incidents/{DEMO}/template", {"template": "pagerduty"})
    assert chosen.status_code == 303  # type: ignore[attr-defined]
    assert "What didn't go so well" in owner.get(f"/incidents/{DEMO}/export.html").text
