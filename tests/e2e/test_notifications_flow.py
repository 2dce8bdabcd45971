"""In a real browser: choose notification channels in Settings; render a PDF in the background
with a real `hindsight worker` and follow its job page to the download, across a reload; a
large archive import followed on its job page the same way."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import ADMIN_PASSWORD, ARTIFACTS

DEMO = "2018-01-18-reddit-hugs-mybinder"
UNIVAF = Path(__file__).parents[1] / "data" / "archive" / "univaf-incidents"


@pytest.fixture(scope="module")
def server_env(server_env: dict[str, str]) -> dict[str, str]:
    """This module's server and worker treat an archive import of more than two reports as
    large: it goes to the worker (the worker reads the upload from the same data dir)."""
    return server_env | {"HINDSIGHT_IMPORT_JOB_REPORTS": "2"}


@pytest.fixture(scope="module")
def worker(server: str, server_env: dict[str, str]) -> Iterator[None]:
    subprocess.run(
        [sys.executable, "-m", "hindsight", "demo", "--if-empty"],
        env=server_env,
        check=True,
        capture_output=True,
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "hindsight", "worker", "--no-periodic"],
        env=server_env | {"HINDSIGHT_WORKER_POLL_SECONDS": "0.5"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    yield
    process.terminate()
    process.wait(timeout=20)


def _sign_in(page: Any, server: str) -> None:
    page.goto(f"{server}/login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_url(f"{server}/")


def test_settings_channels_and_a_background_pdf(browser: Any, server: str, worker: None) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    _sign_in(page, server)
    page.goto(f"{server}/settings")
    page.click("text=choose your channels")
    page.wait_for_url("**/settings/notifications")
    page.select_option("select[name=kind]", "email")
    page.fill("input[name=target]", "not an address")
    page.click("button:has-text('Add channel')")
    assert "is not an e-mail address" in page.locator("[role=alert]").inner_text()
    page.fill("input[name=target]", "admin@example.org")
    page.click("button:has-text('Add channel')")
    page.wait_for_url("**/settings/notifications?added=1")
    page.select_option("select[name=kind]", "webhook")
    page.fill("input[name=target]", "https://hooks.example.org/hindsight")
    page.click("button:has-text('Add channel')")
    page.wait_for_url("**/settings/notifications?added=1")
    rows = page.locator("#channels tbody tr")
    assert rows.count() == 2 and page.locator("code.secret").count() == 1
    page.screenshot(path=str(ARTIFACTS / "notifications.png"), full_page=True)
    page.locator("button[aria-label='Remove E-mail admin@example.org']").click()
    page.wait_for_url("**/settings/notifications")
    assert page.locator("#channels tbody tr").count() == 1

    page.goto(f"{server}/incidents/{DEMO}")
    page.click("#reports summary")
    page.click("button:has-text('Render PDF in the background')")
    page.wait_for_url("**/jobs/*")
    page.reload()  # the job goes on, and the page finds it again
    download = page.locator("a:has-text('Download the PDF')")
    download.wait_for(timeout=60_000)  # the page updates itself when the worker is done
    assert page.locator("[data-state=done]").count() == 1
    with page.expect_download() as info:
        download.click()
    assert info.value.suggested_filename == f"{DEMO}.pdf"
    page.close()


def test_a_large_archive_import_is_followed_on_its_job_page_across_a_reload(
    browser: Any, server: str, worker: None
) -> None:
    context = browser.new_context()
    page = context.new_page()
    try:
        _sign_in(page, server)
        page.goto(f"{server}/archive-import")
        page.set_input_files("#archive-folder", str(UNIVAF))
        page.click("button:has-text('Preview')")
        page.wait_for_selector("text=Preview: nothing is written yet")
        page.click("button:has-text('Import 6 report(s)')")
        page.wait_for_url("**/jobs/*")
        assert page.locator("h1:has-text('Archive import')").count() == 1
        # The page updates itself (HTMX) until the worker has imported every report.
        page.wait_for_selector('[data-state="done"]', timeout=60_000)
        assert page.locator("text=6 reports: 6 created").count() == 1
        page.reload()  # the job's state is in the database, not in the page
        assert page.locator('[data-state="done"]').count() == 1
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "archive-import-job.png"), full_page=True)
        page.click("a:has-text('created 2021-06-03-database-full')")
        page.wait_for_url("**/incidents/2021-06-03-database-full")
    finally:
        context.close()
