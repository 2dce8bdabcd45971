"""Importing evidence in a real browser: the dialog, its preview, bulk accept, a proposed
key moment marked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.e2e.conftest import ADMIN_PASSWORD, ARTIFACTS
from tests.e2e.test_main_flow import _sign_in

DATA = Path(__file__).parents[1] / "data" / "pagerduty"


def _import(page: Any, name: str) -> None:
    page.click("#evidence button:has-text('Import evidence')")
    dialog = page.locator("#import-dialog")
    dialog.locator("select[name=kind]").select_option("pagerduty")
    dialog.locator("input[name=file]").set_input_files(str(DATA / name))
    dialog.locator("button:has-text('Preview')").click()
    dialog.locator("#import-preview p").first.wait_for()
    assert "1 new suggested event" in dialog.locator("#import-preview").inner_text()
    with page.expect_navigation():
        dialog.locator("button:has-text('Add 1 suggestion')").click()


def test_import_preview_accept_and_mark_a_key_moment(browser: Any, server: str) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    _sign_in(page, server, "admin", ADMIN_PASSWORD)
    page.click("text=New incident")
    page.fill("input[name=title]", "Incident 33 in PagerDuty")
    page.select_option("select[name=severity]", "SEV3")
    page.fill("input[name=date]", "2017-09-26")
    page.click("button:has-text('Create')")
    page.wait_for_url("**/incidents/2017-09-26-incident-33-in-pagerduty")
    assert "No suggested events" in page.locator("#evidence").inner_text()

    _import(page, "webhooks-v2_01_incident.trigger.json")
    _import(page, "webhooks-v2_02_incident.acknowledge.json")
    evidence = page.locator("#evidence")
    assert "2 suggested events waiting" in evidence.inner_text()
    assert "the first acknowledgement by Laura Haley (pagerduty)" in evidence.inner_text()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.locator("#list-timeline").screenshot(path=str(ARTIFACTS / "evidence.png"))

    with page.expect_navigation():
        page.click("#suggestions button:has-text('Accept all 2')")
    rows = page.locator("#list-timeline table.timeline:not(.suggestions) tbody tr")
    assert rows.count() == 2
    assert "No suggested events" in page.locator("#evidence").inner_text()

    with page.expect_navigation():
        page.locator(".proposals tr:has-text('acknowledged') button:has-text('Mark')").click()
    assert "Acknowledged by Laura Haley" in page.locator("tr.key-moment").first.inner_text()
    page.close()


def test_the_pdf_report_downloads_from_the_page(browser: Any, server: str) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    _sign_in(page, server, "admin", ADMIN_PASSWORD)
    page.click("text=Incident 33 in PagerDuty")
    page.click("#reports summary")
    page.select_option("#reports select[name=template]", "executive")
    with page.expect_download() as download:
        page.click("#reports button:has-text('PDF')")
    assert download.value.suggested_filename == "2017-09-26-incident-33-in-pagerduty.pdf"
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF")
    page.close()


def test_reopening_the_import_dialog_starts_clean(browser: Any, server: str) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    _sign_in(page, server, "admin", ADMIN_PASSWORD)
    page.click("text=Incident 33 in PagerDuty")
    page.click("#evidence button:has-text('Import evidence')")
    dialog = page.locator("#import-dialog")
    since = dialog.locator("input[name=since]").input_value()
    assert since.startswith("2017-09-2")  # the day around the incident's first event
    dialog.locator("select[name=kind]").select_option("pagerduty")
    dialog.locator("input[name=file]").set_input_files(
        str(DATA / "webhooks-v2_03_incident.resolve.json")
    )
    dialog.locator("input[name=since]").fill("2017-09-01T00:00:00")
    dialog.locator("button:has-text('Preview')").click()
    dialog.locator("#import-preview p").first.wait_for()
    assert "1 new suggested event" in dialog.locator("#import-preview").inner_text()
    dialog.locator("button[aria-label=Close]").click()

    page.click("#evidence button:has-text('Import evidence')")
    assert dialog.locator("#import-preview").inner_html().strip() == ""
    assert dialog.locator("input[name=file]").evaluate("input => input.files.length") == 0
    assert dialog.locator("input[name=since]").input_value() == since
    page.close()
