"""The Import archive page in a real browser at phone width, driven by the keyboard: choose a
folder of real reports, preview, import, open an imported incident."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.e2e.conftest import ADMIN_PASSWORD, ARTIFACTS
from tests.e2e.test_main_flow import _sign_in
from tests.e2e.test_phone_layout import PHONE, _assert_fits

UNIVAF = Path(__file__).parents[1] / "data" / "archive" / "univaf-incidents"


def test_a_folder_of_reports_is_previewed_and_imported_on_a_phone_with_the_keyboard(
    browser: Any, server: str
) -> None:
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    try:
        _sign_in(page, server, "admin", ADMIN_PASSWORD)
        page.goto(f"{server}/archive-import")
        _assert_fits(page)
        page.set_input_files("#archive-folder", str(UNIVAF))  # webkitdirectory: the folder
        page.focus("#archive-zone")
        page.keyboard.type("America/Los_Angeles")
        page.focus("button:has-text('Preview')")
        page.keyboard.press("Enter")
        page.wait_for_selector("text=Preview: nothing is written yet")
        assert page.locator("text=6 would create").count() == 1
        assert page.locator("text=univaf-incidents/2021-06-03--database-full.md").count() == 1
        _assert_fits(page)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "archive-import-preview-phone.png"), full_page=True)
        page.focus("button:has-text('Import 6 report(s)')")
        page.keyboard.press("Enter")
        page.wait_for_selector("h2:has-text('Imported')")
        assert page.locator("text=6 created").count() == 1
        page.click("a:has-text('created 2021-06-03-database-full')")
        page.wait_for_url("**/incidents/2021-06-03-database-full")
        assert page.locator("text=Set up CloudWatch alarms for database resources.").count() >= 1
    finally:
        context.close()
