"""Issue 12 in a real browser: the Action items page filtered to "mine, overdue" and marked done
in bulk, and the Insights page's charts, table view and CSV download; both fit a phone."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import ADMIN_PASSWORD, ARTIFACTS
from tests.e2e.test_main_flow import _sign_in
from tests.e2e.test_phone_layout import OVERFLOW, PHONE

KEY = "2020-01-05-queue-backlog"


def _hindsight(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "-m", "hindsight", *args], env=env, check=True)


@pytest.fixture(scope="module")
def seeded(server: str, server_env: dict[str, str], tmp_path_factory: Any) -> str:
    """An incident whose items are: two of admin's overdue, one of admin's later, one of the
    reviewer's overdue (one `hindsight import` of its JSON form)."""
    items = [
        {"title": title, "owner": owner, "due": due}
        for title, owner, due in (
            ("Page on queue depth", "admin", "2020-02-01"),
            ("Cap batch size", "admin", "2020-03-01"),
            ("Capacity review", "admin", "2999-01-01"),
            ("Reviewer's runbook", "reviewer", "2020-02-01"),
        )
    ]
    document = {"hindsight": 1, "key": KEY, "title": "Queue backlog", "severity": "SEV1"}
    document["action_items"] = items
    path = tmp_path_factory.mktemp("seed") / f"{KEY}.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    _hindsight(server_env, "import", str(path))
    return server


def _rows(page: Any) -> list[str]:
    return [text.strip() for text in page.locator("main tbody tr td.lead a").all_inner_texts()]


def test_filter_to_mine_overdue_and_mark_them_done_in_bulk(browser: Any, seeded: str) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    _sign_in(page, seeded, "admin", ADMIN_PASSWORD)
    page.click("nav >> text=Action items")
    page.wait_for_url("**/actions")
    assert sorted(_rows(page)) == ["Cap batch size", "Capacity review", "Page on queue depth"]
    page.click("summary:has-text('Filter and sort')")
    page.check("input[name=who][value=mine]")
    page.check("input[name=due][value=overdue]")
    with page.expect_navigation():
        page.click("form.grid-form button:has-text('Apply')")
    assert _rows(page) == ["Page on queue depth", "Cap batch size"]
    assert page.locator("main .badge.overdue").count() == 2
    # Keyboard: tick each box with the space bar.
    for box in page.locator("input[name=item]").all():
        box.focus()
        page.keyboard.press(" ")
    page.select_option("#bulk-status", "done")
    with page.expect_navigation():
        page.click("button:has-text('Change selected')")
    assert "Changed 2 action items." in page.locator("[role=status]").inner_text()
    assert "No action item matches these filters" in page.locator("main").inner_text()
    page.screenshot(path=str(ARTIFACTS / "action-items-bulk-done.png"), full_page=True)
    page.goto(f"{seeded}/incidents/{KEY}")
    statuses = page.locator("#list-actions tbody tr").all_inner_texts()
    assert sum("done" in row.lower() for row in statuses) == 2
    page.close()


def test_the_insights_page_shows_charts_a_table_view_and_a_csv(
    browser: Any, seeded: str, tmp_path: Path
) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    _sign_in(page, seeded, "admin", ADMIN_PASSWORD)
    page.goto(f"{seeded}/insights?from=2000-01-01")
    chart = page.locator("#incidents-by-month svg")
    assert chart.is_visible()
    assert page.locator("#incidents-by-month svg rect title").count() >= 1
    table = page.locator("#incidents-by-month details.table-view table")
    assert not table.is_visible()
    page.click("#incidents-by-month summary:has-text('Table view')")
    assert table.is_visible()
    assert "SEV1 (incidents)" in table.inner_text()
    with page.expect_download() as info:
        page.click("#incidents-by-month a:has-text('Download CSV')")
    saved = tmp_path / "incidents-by-month.csv"
    info.value.save_as(saved)
    lines = saved.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("Month,SEV1 (incidents)")
    assert sum(int(line.split(",")[1]) for line in lines[1:]) >= 1
    page.screenshot(path=str(ARTIFACTS / "insights.png"), full_page=True)
    page.close()


def test_both_pages_fit_a_phone(browser: Any, seeded: str) -> None:
    page = browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    _sign_in(page, seeded, "admin", ADMIN_PASSWORD)
    for url in ("/actions?who=all", "/insights?from=2000-01-01"):
        page.goto(f"{seeded}{url}")
        page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
        result = page.evaluate(OVERFLOW, [["main", "header"], PHONE["width"]])
        assert result["scrollWidth"] <= PHONE["width"], (url, result)
        assert result["outside"] == [], (url, result)
    page.close()
