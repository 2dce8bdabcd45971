"""In a real browser: open a postmortem, see "Seen before" with the possible recurrence, link
it in one click, and see the link on both pages."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from tests.e2e.conftest import ADMIN_PASSWORD, ARTIFACTS
from tests.e2e.test_main_flow import _sign_in


def _new(env: dict[str, str], title: str, date: str) -> str:
    summary = f"{title}: the TLS certificate of the ingress expired and browsers refused it."
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "hindsight",
            "new",
            "--title",
            title,
            "--severity",
            "SEV2",
            "--service",
            "ingress",
            "--tag",
            "tls",
            "--date",
            date,
            "--summary",
            summary,
        ],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip()


def test_seen_before_suggests_a_recurrence_and_one_click_links_it(
    browser: Any, server: str, server_env: dict[str, str]
) -> None:
    first = _new(server_env, "Certificate expired on the ingress", "2024-01-01")
    second = _new(server_env, "Certificate expired on the ingress again", "2024-03-01")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    _sign_in(page, server, "admin", ADMIN_PASSWORD)
    page.goto(f"{server}/incidents/{second}")
    section = page.locator("#seen-before")
    assert "Seen before" in section.inner_text()
    assert "Certificate expired on the ingress" in section.locator("ol.similar").inner_text()
    notice = section.locator(".recurrence")
    assert "Possible recurrence of Certificate expired on the ingress" in notice.inner_text()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    section.screenshot(path=str(ARTIFACTS / "seen-before.png"))
    with page.expect_navigation():
        notice.locator("button:has-text('Link as recurrence')").click()
    links = page.locator("#seen-before .recurrence-links")
    assert "Recurrence of Certificate expired on the ingress" in links.inner_text()
    assert page.locator("#seen-before .recurrence").count() == 0
    page.goto(f"{server}/incidents/{first}")
    assert "Recurred as" in page.locator("#seen-before .recurrence-links").inner_text()
    page.goto(f"{server}/?recurring=true")
    assert first in page.content() and second in page.content()
    page.close()
