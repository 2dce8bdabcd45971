"""Issue 11 end to end in a real browser: import a folder of another team's real reports,
search for a term, open a hit, see "Seen before", link the recurrence, and see the link on
both incidents."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import ADMIN_PASSWORD, ARTIFACTS
from tests.e2e.test_archive_import_page import UNIVAF
from tests.e2e.test_main_flow import _sign_in


def test_import_an_archive_search_it_and_link_a_recurrence(browser: Any, server: str) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    _sign_in(page, server, "admin", ADMIN_PASSWORD)
    page.goto(f"{server}/archive-import")
    page.set_input_files("#archive-folder", str(UNIVAF))
    page.click("button:has-text('Preview')")
    page.wait_for_selector("text=Preview: nothing is written yet")
    page.click("button:has-text('Import')")
    page.wait_for_selector("h2:has-text('Imported')")
    # Search from the box every page has, for words the reports use.
    page.fill("#site-search", '"storage" database')
    page.keyboard.press("Enter")
    page.wait_for_url("**/search?q=*")
    hit = page.locator("article.hit", has_text="Database Storage Low")
    assert hit.locator("mark").count() > 0
    with page.expect_navigation():
        hit.locator("a", has_text="Database Storage Low").first.click()
    seen = page.locator("#seen-before")
    assert "2021-06-03: Database Full" in seen.locator("ol.similar").inner_text()
    notice = seen.locator(".recurrence")
    assert "Possible recurrence of 2021-06-03: Database Full" in notice.inner_text()
    assert "preventive actions done" in notice.inner_text()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    seen.screenshot(path=str(ARTIFACTS / "knowledge-base-seen-before.png"))
    with page.expect_navigation():
        notice.locator("button:has-text('Link as recurrence')").click()
    linked = page.locator("#seen-before .recurrence-links").inner_text()  # waits for the section
    assert "Recurrence of 2021-06-03: Database Full" in linked
    page.goto(f"{server}/incidents/2021-06-03-database-full")
    links = page.locator("#seen-before .recurrence-links")
    assert "Recurred as 2021-06-11: Database Storage Low" in links.inner_text()
    page.close()
