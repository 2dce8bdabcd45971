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


def test_dismissing_a_finding_on_the_page_and_in_the_api_and_a_reader_cannot(
    browser_for: Make, app_database: Database, incident: str
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
    # A reader sees no form and cannot dismiss.
    reader = browser_for("reader")
    assert "findings/dismiss" not in reader.page(PAGE)
    refused = reader.submit(
        f"{PAGE}/findings/dismiss", {"rule": RULE, "field": FIELD, "reason": "no"}
    )
    assert refused.status_code == 403  # type: ignore[attr-defined]
    # The API, with the owner's token: list, a refused dismissal, dismiss, restore.
    client = browser_for(None)
    headers = _token(app_database, "owner")
    url = f"/api/v1/incidents/{KEY}/findings"
    before = client.get(url, headers=headers).json()
    assert any(f["rule"] == RULE and f["field"] == FIELD for f in before["findings"])
    blank = client.post(
        f"{url}/dismiss", json={"rule": RULE, "field": FIELD, "reason": " "}, headers=headers
    )
    assert blank.status_code == 400 and "reason" in blank.text
    after = client.post(
        f"{url}/dismiss", json={"rule": RULE, "field": FIELD, "reason": "quoted"}, headers=headers
    ).json()
    assert [d["reason"] for d in after["dismissed"]] == ["quoted"]
    assert not any(f["rule"] == RULE for f in after["findings"])
    again = client.post(
        f"{url}/undismiss", json={"rule": RULE, "field": FIELD}, headers=headers
    ).json()
    assert again["dismissed"] == [] and again["score"] == before["score"]
