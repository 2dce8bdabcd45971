"""Dismissing a lint finding from the review checklist and through the API, with personas."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hindsight.services.accounts import list_users
from hindsight.services.database import Database
from hindsight.services.incidents import create_postmortem
from tests.factories import make_postmortem
from tests.web.conftest import Browser
from tests.web.test_api import _token

Make = Callable[[str | None], Browser]
KEY = "2024-03-05-checkout-errors"
PAGE = f"/incidents/{KEY}"
RULE, FIELD = "blameless/counterfactual", "lessons[0].text"


@pytest.fixture
def incident(app_database: Database) -> str:
    """An internal incident by `owner` whose lesson reads as a counterfactual."""
    with app_database.transaction() as session:
        owner = next(a for a, _ in list_users(session) if a.username == "owner")
        pm = make_postmortem(lessons=[{"text": "The verification step was overlooked."}])
        create_postmortem(session, postmortem=pm, author="owner", actor=owner)
    return KEY


def test_the_owner_dismisses_a_finding_on_the_page_and_it_is_listed_with_the_reason(
    browser_for: Make, incident: str
) -> None:
    owner = browser_for("owner")
    page = owner.page(PAGE)
    assert "findings/dismiss" in page and "was overlooked" in page
    answer = owner.submit(
        f"{PAGE}/findings/dismiss", {"rule": RULE, "field": FIELD, "reason": "kept as quoted"}
    )
    assert answer.status_code == 303  # type: ignore[attr-defined]
    page = owner.page(PAGE)
    assert "Dismissed (not counted)" in page and "kept as quoted" in page
    owner.submit(f"{PAGE}/findings/undismiss", {"rule": RULE, "field": FIELD})
    assert "Dismissed (not counted)" not in owner.page(PAGE)


def test_a_reader_sees_no_dismiss_form_and_cannot_dismiss(browser_for: Make, incident: str) -> None:
    reader = browser_for("reader")
    page = reader.page(PAGE)
    assert "findings/dismiss" not in page
    answer = reader.submit(
        f"{PAGE}/findings/dismiss", {"rule": RULE, "field": FIELD, "reason": "no"}
    )
    assert answer.status_code == 403  # type: ignore[attr-defined]


def test_the_api_lists_dismisses_and_restores_a_finding(
    browser_for: Make, app_database: Database, incident: str
) -> None:
    client = browser_for(None)
    headers = _token(app_database, "owner")
    url = f"/api/v1/incidents/{KEY}/findings"
    before = client.get(url, headers=headers).json()
    assert any(f["rule"] == RULE and f["field"] == FIELD for f in before["findings"])
    refused = client.post(
        f"{url}/dismiss", json={"rule": RULE, "field": FIELD, "reason": " "}, headers=headers
    )
    assert refused.status_code == 400 and "reason" in refused.text
    after = client.post(
        f"{url}/dismiss", json={"rule": RULE, "field": FIELD, "reason": "quoted"}, headers=headers
    ).json()
    assert [d["reason"] for d in after["dismissed"]] == ["quoted"]
    assert not any(f["rule"] == RULE for f in after["findings"])
    again = client.post(
        f"{url}/undismiss", json={"rule": RULE, "field": FIELD}, headers=headers
    ).json()
    assert again["dismissed"] == [] and again["score"] == before["score"]
