"""The main flow in a real browser: write a postmortem, review it, publish it."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import ADMIN_PASSWORD, ARTIFACTS, REVIEWER_PASSWORD


def _sign_in(page: Any, server: str, username: str, password: str) -> None:
    page.goto(f"{server}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button:has-text('Sign in')")
    page.wait_for_url(f"{server}/")


def _sign_out(page: Any) -> None:
    page.click("button:has-text('Sign out')")
    page.wait_for_url("**/login")


def _edit_section(page: Any, name: str, values: dict[str, str]) -> None:
    page.click(f"#sec-{name} a.edit")
    form = page.locator(f"#sec-{name} form.edit-form")
    for field, value in values.items():
        form.locator(f"[name='{field}']").fill(value)
    with page.expect_navigation():
        form.locator("button:has-text('Save')").click()
    assert page.locator(f"#sec-{name} form.edit-form").count() == 0


def _add_item(page: Any, editor: str, values: dict[str, str], selects: dict[str, str]) -> None:
    page.click(f"#list-{editor} h2 a.edit, #list-{editor} h3 a.edit")
    form = page.locator(f"#list-{editor} form.edit-form")
    form.wait_for()
    for field, value in values.items():
        form.locator(f"[name='{field}']").fill(value)
    for field, value in selects.items():
        form.locator(f"select[name='{field}']").select_option(value)
    with page.expect_navigation():
        form.locator("button:has-text('Save')").click()
    assert page.locator(f"#list-{editor} form.edit-form").count() == 0, form.inner_text()


def test_write_review_and_publish_a_postmortem(browser: Any, server: str) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    _sign_in(page, server, "admin", ADMIN_PASSWORD)
    page.click("text=New incident")
    page.fill("input[name=title]", "Checkout errors after a config push")
    page.select_option("select[name=severity]", "SEV2")
    page.fill("input[name=date]", "2024-03-05")
    page.fill("textarea[name=services]", "checkout\npayments")
    page.fill("textarea[name=summary]", "Checkout returned **500s** for 42 minutes.")
    page.click("button:has-text('Create')")
    page.wait_for_url("**/incidents/2024-03-05-checkout-errors-after-a-config-push")

    moments = [
        ("10:00", "Config pushed to production", "change", "impact_started"),
        ("10:04", "Error-rate alert fired", "alert", "detected"),
        ("10:09", "On-call acknowledged the page", "acknowledgement", "acknowledged"),
        ("10:30", "Config rolled back", "action", "mitigated"),
        ("10:42", "Error rate back to normal", "resolution", "resolved"),
    ]
    for time, text, kind, moment in moments:
        _add_item(
            page,
            "timeline",
            {"at": f"2024-03-05T{time}:00", "zone": "Europe/Berlin", "text": text},
            {"kind": kind, "key_moment": moment},
        )
    assert page.locator("#list-timeline tbody tr").count() == 5
    assert "42m" in page.locator(".metrics").inner_text()

    _edit_section(
        page,
        "analysis",
        {
            "analysis.trigger": "A config push with a typo.",
            "analysis.root_causes": "Config changes skip the canary",
        },
    )
    _edit_section(
        page,
        "impact",
        {
            "impact.users_affected": "1200",
            "impact.failed_requests": "35000",
            "impact.narrative": "Customers could not pay.",
        },
    )
    _edit_section(
        page,
        "response",
        {
            "response.went_well": "Fast rollback",
            "response.went_wrong": "The alert fired 4 minutes late",
        },
    )
    _add_item(page, "lessons", {"text": "Config is code and needs a canary"}, {})
    _add_item(
        page,
        "actions",
        {
            "title": "Run config changes through the canary stage",
            "owner": "payments",
            "due": "2024-04-01",
        },
        {"kind": "prevent", "priority": "P2"},
    )
    assert "Run config changes through the canary stage" in page.content()

    page.fill("#review input[name=reviewers]", "reviewer")
    page.click("#review button:has-text('Request review')")
    page.wait_for_load_state("networkidle")
    assert "in review" in page.locator("#review").inner_text()
    _sign_out(page)

    _sign_in(page, server, "reviewer", REVIEWER_PASSWORD)
    page.click("text=Checkout errors after a config push")
    page.click("#review button:has-text('Approve')")
    page.wait_for_load_state("networkidle")
    assert "approved" in page.locator("#review").inner_text()
    _sign_out(page)

    _sign_in(page, server, "admin", ADMIN_PASSWORD)
    page.click("text=Checkout errors after a config push")
    page.click("#review button:has-text('Publish')")
    page.wait_for_load_state("networkidle")
    assert "Published: read-only" in page.content()
    assert page.locator("#sec-impact a.edit").count() == 0
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "postmortem.png"), full_page=True)
    page.close()
