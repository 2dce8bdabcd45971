"""Search in a real browser: "/" jumps to the box, results highlight the words, facets
filter, a hit opens, and the results page fits a 390 px phone."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from tests.e2e.conftest import ADMIN_PASSWORD, ARTIFACTS
from tests.e2e.test_main_flow import _sign_in
from tests.e2e.test_phone_layout import PHONE, _assert_fits

DEMO = "2018-01-18-reddit-hugs-mybinder"


@pytest.fixture(scope="module")
def demo(server: str, server_env: dict[str, str]) -> str:
    subprocess.run(
        [sys.executable, "-m", "hindsight", "demo"], env=server_env, check=True, capture_output=True
    )
    return server


def test_slash_focuses_the_search_box_and_a_facet_and_a_hit_lead_on(
    browser: Any, demo: str
) -> None:
    page = browser.new_page()
    _sign_in(page, demo, "admin", ADMIN_PASSWORD)
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "site-search"
    page.keyboard.type('reddit "node pool" OR ingress')
    page.keyboard.press("Enter")
    page.wait_for_url("**/search?q=*")
    hit = page.locator("article.hit").first
    assert "reddit hugs mybinder" in hit.inner_text()
    assert page.locator("article.hit mark").count() > 0
    page.locator(".facets a", has_text="SEV2").click()
    page.wait_for_url("**severity=SEV2*")
    assert page.locator(".chip", has_text="Severity: SEV2").is_visible()
    # On the results page "/" goes to the page's own box, not the header's.
    page.locator("h1").click()
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "search-query"
    page.locator("article.hit h2 a").first.click()
    page.wait_for_url(f"**/incidents/{DEMO}")
    page.close()


def test_the_results_page_fits_a_phone_with_facets_above_the_hits(browser: Any, demo: str) -> None:
    page = browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    _sign_in(page, demo, "admin", ADMIN_PASSWORD)
    page.goto(f"{demo}/search?q=reddit+OR+binder")
    assert page.locator("article.hit").count() == 1
    facets = page.locator("aside.facets").bounding_box()
    hits = page.locator("section.hits").bounding_box()
    assert facets is not None and hits is not None and facets["y"] < hits["y"]
    _assert_fits(page)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "phone-search.png"), full_page=True)
    page.goto(f"{demo}/search?q=zzznothing")
    assert "No postmortem matches" in page.inner_text("main")
    _assert_fits(page)
    page.close()
