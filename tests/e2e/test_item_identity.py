"""Issue 9 in a real browser: the two-tab remove/edit race, undo of a remove, and the history
page after 50 list edits (one line per changed item)."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from tests.e2e.conftest import ADMIN_PASSWORD, ARTIFACTS
from tests.e2e.test_main_flow import _sign_in


def _new_incident(page: Any, title: str) -> str:
    page.click("text=New incident")
    page.fill("input[name=title]", title)
    page.select_option("select[name=severity]", "SEV3")
    with page.expect_navigation():
        page.click("button:has-text('Create')")
    return str(page.url.rstrip("/").split("/")[-1].split("?")[0])


def _add_action(page: Any, title: str) -> None:
    page.click("#list-actions h2 a.edit")
    form = page.locator("#list-actions form.edit-form")
    form.wait_for()
    form.locator("[name='title']").fill(title)
    with page.expect_navigation():
        form.locator("button:has-text('Save')").click()


def _row(page: Any, title: str) -> Any:
    return page.locator("#list-actions tr", has_text=title)


def test_keep_mine_after_a_concurrent_remove_in_two_tabs_keeps_the_other_items(
    browser: Any, server: str
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab_a = context.new_page()
    _sign_in(tab_a, server, "admin", ADMIN_PASSWORD)
    key = _new_incident(tab_a, "Two tabs race on action items")
    for title in ("Alpha", "Bravo", "Charlie"):
        _add_action(tab_a, title)
    tab_b = context.new_page()
    tab_b.goto(f"{server}/incidents/{key}")
    # A opens Bravo to edit; B removes Bravo.
    _row(tab_a, "Bravo").locator("a:has-text('edit')").click()
    form = tab_a.locator("#list-actions form.edit-form")
    form.wait_for()
    with tab_b.expect_navigation():
        _row(tab_b, "Bravo").locator("button:has-text('remove')").click()
    assert _row(tab_b, "Bravo").count() == 0
    # A saves: a conflict that names Bravo; keeping mine brings Bravo back, Charlie untouched.
    form.locator("[name='owner']").fill("Ana")
    form.locator("button:has-text('Save')").click()
    alert = tab_a.locator("#list-actions [role=alert]")
    alert.wait_for()
    assert "Bravo" in alert.inner_text()
    with tab_a.expect_navigation():
        tab_a.locator("button:has-text('Keep mine')").click()
    rows = {t: _row(tab_a, t) for t in ("Alpha", "Bravo", "Charlie")}
    assert all(row.count() == 1 for row in rows.values())
    assert "Ana" in rows["Bravo"].inner_text() and "Ana" not in rows["Charlie"].inner_text()
    tab_a.screenshot(path=str(ARTIFACTS / "race-keep-mine.png"), full_page=True)
    context.close()


def test_a_removed_item_comes_back_with_undo(browser: Any, server: str) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    _sign_in(page, server, "admin", ADMIN_PASSWORD)
    key = _new_incident(page, "Undo a removed action item")
    _add_action(page, "Rotate the signing key")
    with page.expect_navigation():
        _row(page, "Rotate the signing key").locator("button:has-text('remove')").click()
    banner = page.locator("form.undo")
    assert "Rotate the signing key" in banner.inner_text()
    with page.expect_navigation():
        banner.locator("button:has-text('Undo')").click()
    assert _row(page, "Rotate the signing key").count() == 1
    history = page.goto(f"{server}/incidents/{key}/history")
    assert history is not None
    assert "restored 'Rotate the signing key'" in page.inner_text("main")


def test_the_history_after_50_list_edits_has_one_line_per_changed_item(
    browser: Any, server: str
) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    _sign_in(page, server, "admin", ADMIN_PASSWORD)
    key = _new_incident(page, "Fifty edits of a timeline")
    # 50 edits through the API with a token, as a script would make them.
    token = page.evaluate(
        """async () => {
        const csrf = JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRF-Token'];
        const r = await fetch('/api/v1/tokens', {method: 'POST', headers: {'Content-Type':
          'application/json', 'X-CSRF-Token': csrf}, body: JSON.stringify({name: 'e2e'})});
        return (await r.json()).token; }"""
    )

    def call(method: str, path: str, body: object) -> Any:
        request = urllib.request.Request(
            f"{server}/api/v1{path}",
            method=method,
            data=json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request) as response:
            return json.load(response)

    version = 1
    for n in range(25):
        item = {"at": f"2024-03-05T10:{n:02d}:00Z", "text": f"Event {n}"}
        pm = call("POST", f"/incidents/{key}/items/timeline", {"version": version, "item": item})
        event_id = pm["postmortem"]["timeline"][n]["id"]
        edit = {f"timeline.{event_id}.text": f"Event {n}, edited"}
        version = call("PATCH", f"/incidents/{key}", {"version": pm["version"], "set": edit})[
            "version"
        ]
    page.goto(f"{server}/incidents/{key}/history")
    revisions = page.locator("article.revision")
    assert revisions.count() == 50
    # Each revision of one list edit is one line in words, never a list of field paths.
    lines = page.locator("article.revision ul.changes > li")
    assert lines.count() == 50
    texts = lines.all_inner_texts()
    assert sum(t.startswith("added event 'Event ") for t in texts) == 25
    assert sum(t.startswith("event 'Event ") and "text edited" in t for t in texts) == 25
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < 31_000 / 2, height
    page.screenshot(path=str(ARTIFACTS / "history-readable.png"))


def test_saving_after_signing_out_in_another_tab_keeps_the_text_and_saves_after_sign_in(
    browser: Any, server: str
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab_a = context.new_page()
    _sign_in(tab_a, server, "admin", ADMIN_PASSWORD)
    key = _new_incident(tab_a, "Signed out in another tab")
    tab_a.click("#list-actions h2 a.edit")
    form = tab_a.locator("#list-actions form.edit-form")
    form.wait_for()
    form.locator("[name='title']").fill("Typed before the other tab signed out")
    tab_b = context.new_page()
    tab_b.goto(f"{server}/incidents/{key}")
    with tab_b.expect_navigation():
        tab_b.click("button:has-text('Sign out')")
    # Save in A: told why, and the typing is still in the form.
    form.locator("button:has-text('Save')").click()
    problem = form.locator(".save-problem")
    problem.wait_for()
    assert "signed out" in problem.inner_text()
    assert form.locator("[name='title']").input_value() == "Typed before the other tab signed out"
    # Sign in again in B; Save in A once more goes through (the page picks up the new session).
    _sign_in(tab_b, server, "admin", ADMIN_PASSWORD)
    with tab_a.expect_navigation():
        form.locator("button:has-text('Save')").click()
    assert _row(tab_a, "Typed before the other tab signed out").count() == 1
    context.close()
