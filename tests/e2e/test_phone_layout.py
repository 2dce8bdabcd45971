"""At phone width (390 x 844) every page fits the screen: no horizontal scrolling, long words
wrap, the timeline and the action items become cards that keep every fact, dialogs fit."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import ADMIN_PASSWORD, ARTIFACTS
from tests.e2e.test_main_flow import _sign_in

PHONE = {"width": 390, "height": 844}
PAGERDUTY = Path(__file__).parents[1] / "data" / "pagerduty"
DEMO = "2018-01-18-reddit-hugs-mybinder"
# One unbroken word far wider than a phone, as stack traces and class names are.
LONG_WORD = "org.mybinder.ingress.PaymentAuthorizationServiceConnectionPoolExhaustedException"
TITLE = f"reddit hugs mybinder: {LONG_WORD}"
ACTION = "Alert when a node's fluentd pod is in CrashLoopBackOff"
EVENT = f"Hub log: {LONG_WORD}{LONG_WORD} while contacting user pods"

# Every rendered element of the given regions that reaches past the phone's left or right edge;
# elements inside a scrolling box count too (a table scrolled sideways is not readable).
OVERFLOW = """([selectors, width]) => {
  const found = [];
  for (const selector of selectors) {
    for (const root of document.querySelectorAll(selector)) {
      for (const element of [root, ...root.querySelectorAll("*")]) {
        const box = element.getBoundingClientRect();
        if (box.width === 0 && box.height === 0) continue;
        if (getComputedStyle(element).visibility === "hidden") continue;
        if (box.right > width + 0.5 || box.left < -0.5) {
          const name = element.tagName.toLowerCase() + (element.id ? "#" + element.id : "")
            + (element.className && typeof element.className === "string"
               ? "." + element.className.trim().split(/\\s+/).join(".") : "");
          found.push(`${name} [${Math.round(box.left)}, ${Math.round(box.right)}]`);
        }
      }
    }
  }
  return {
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
    outside: found.slice(0, 12),
  };
}"""
REGIONS = ["header.site", "main", "footer"]


def _assert_fits(page: Any, regions: list[str] = REGIONS) -> None:
    # A mobile browser widens its layout viewport to content that overflows (then a fixed
    # dialog is centred on the wider page, off the screen), so compare with the phone itself.
    result = page.evaluate(OVERFLOW, [regions, PHONE["width"]])
    assert result["scrollWidth"] <= PHONE["width"], result
    assert result["innerWidth"] == PHONE["width"], result
    assert result["outside"] == [], result


def _screenshot(page: Any, name: str, start: str | None = None) -> None:
    """One screen of the phone: what it shows now, or the page from the region `start` on."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    if start is None:
        page.screenshot(path=str(ARTIFACTS / name))
        return
    top = page.evaluate(f"document.querySelector('{start}').getBoundingClientRect().top + scrollY")
    clip = {"x": 0, "y": top, **PHONE}
    page.screenshot(path=str(ARTIFACTS / name), clip=clip, full_page=True)


def _hindsight(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "-m", "hindsight", *args], env=env, check=True)


@pytest.fixture(scope="module")
def phone(browser: Any, server: str, server_env: dict[str, str]) -> Any:
    """A signed-in page at phone size, with the demo incident given a title that cannot break,
    an action item with an owner, a due date and a status, and an event with a long word."""
    _hindsight(server_env, "demo")
    _hindsight(server_env, "set", DEMO, f"title={TITLE}")
    _hindsight(
        server_env,
        *("action", "add", DEMO, "--title", ACTION, "--kind", "detect", "--owner", "Yuvi"),
        *("--priority", "P1", "--due", "2018-02-01", "--status", "in_progress"),
    )
    _hindsight(
        server_env, "event", "add", DEMO, "--at", "2018-01-18T08:34:00-08:00", "--text", EVENT
    )
    # Suggested events and proposed key moments waiting in the evidence panel.
    log = PAGERDUTY / "GET_log_entries__200__response.json"
    _hindsight(server_env, "import-evidence", DEMO, "pagerduty", str(log), "--any-time")
    page = browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    _sign_in(page, server, "admin", ADMIN_PASSWORD)
    yield page
    page.close()


def test_the_incident_list_fits_a_phone_with_a_long_unbroken_title(phone: Any) -> None:
    link = phone.locator("main table a", has_text=LONG_WORD)
    assert link.is_visible()
    _assert_fits(phone)
    _screenshot(phone, "phone-list.png")


def test_the_postmortem_page_fits_a_phone_and_its_cards_keep_every_fact(
    phone: Any, server: str
) -> None:
    phone.goto(f"{server}/incidents/{DEMO}")
    assert LONG_WORD in phone.locator("h1").inner_text()
    assert phone.locator("#suggestions tbody tr").count() > 0
    _assert_fits(phone)
    _screenshot(phone, "phone-timeline.png", "#list-timeline")
    _screenshot(phone, "phone-actions.png", "#list-actions")
    # Report templates, comment forms, the checklist and the hook token fit when opened too.
    phone.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
    _assert_fits(phone)

    action = phone.locator("#list-actions tbody tr", has_text=ACTION)
    for label, value in (("Priority", "P1"), ("Due", "2018-02-01"), ("Status", "In progress")):
        cell = action.locator(f"td[data-label='{label}']")
        assert cell.is_visible(), label
        assert value.lower() in cell.inner_text().lower(), (label, cell.inner_text())
    events = phone.locator("#list-timeline table.timeline tbody tr")
    assert events.count() > 20
    for index in range(events.count()):
        text = events.nth(index).locator("td[data-label='Event']")
        assert text.is_visible() and text.inner_text().strip(), index
    assert LONG_WORD in phone.locator("#list-timeline").inner_text()


def test_the_import_dialog_fits_a_phone(phone: Any, server: str) -> None:
    phone.goto(f"{server}/incidents/{DEMO}")
    phone.click("#evidence button:has-text('Import evidence')")
    dialog = phone.locator("#import-dialog")
    dialog.locator("select[name=kind]").select_option("pagerduty")
    # The sample is from 2015, the demo from 2018: no time window, or it would be skipped.
    for bound in ("since", "until"):
        dialog.locator(f"input[name={bound}]").fill("")
    good = (PAGERDUTY / "GET_incidents__200__response.json").read_bytes()
    # A file that cannot be read (its reason names it), then one that previews its events.
    for content, shown in ((b'{"incidents": [', "#import-preview .error"), (good, ".preview")):
        upload = {"name": f"{LONG_WORD}.json", "mimeType": "application/json", "buffer": content}
        dialog.locator("input[name=file]").set_input_files(upload)
        dialog.locator("button:has-text('Preview')").click()
        dialog.locator(shown).wait_for()
        box = dialog.locator("article").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
        _assert_fits(phone, ["#import-dialog"])
    dialog.locator(".preview").scroll_into_view_if_needed()
    _screenshot(phone, "phone-import-dialog.png")
    dialog.locator("header button[aria-label=Close]").click()


@pytest.mark.parametrize("path", [f"/incidents/{DEMO}/history", "/incidents/new", "/?q=reddit"])
def test_the_other_pages_fit_a_phone(phone: Any, server: str, path: str) -> None:
    phone.goto(f"{server}{path}")
    phone.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
    _assert_fits(phone)


def test_settings_with_an_api_token_fit_a_phone(phone: Any, server: str) -> None:
    phone.goto(f"{server}/settings")
    phone.fill("input[name=name]", f"ci-export-{LONG_WORD}")
    with phone.expect_navigation():
        phone.click("button:has-text('Create token')")
    assert phone.locator("td", has_text="ci-export").count() == 1
    _assert_fits(phone)
