""" "Seen before" on the postmortem page, one-click recurrence links and dismissals, the
'recurring' list filter, and the similar-incidents API, on both databases."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from hindsight.services.accounts import list_users
from hindsight.services.database import Database
from hindsight.services.incidents import create_postmortem
from tests.factories import make_postmortem
from tests.web.conftest import Browser

T = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
Make = Callable[[str | None], Browser]


SUGGESTED = 'Possible recurrence of <a href="/incidents/{}">'


def _cert(key: str, title: str, **overrides: object) -> object:
    values: dict[str, object] = {
        "summary": "The TLS certificate on the ingress expired and browsers refused the site.",
        "services": ["ingress"],
        "tags": ["tls"],
        "analysis": {"trigger": "The Let's Encrypt certificate expired."},
    }
    return make_postmortem(key=key, title=title, **{**values, **overrides})


@pytest.fixture
def certs(app_database: Database) -> Database:
    with app_database.transaction() as session:
        owner = next(a for a, _ in list_users(session) if a.username == "owner")
        actions = [
            {"title": "Alert on certificate expiry", "kind": "detect"},
            {"title": "Automate renewal", "kind": "prevent", "status": "done"},
        ]
        for key, title, days, extra in (
            ("old-cert", "Certificate expired on ingress", 0, {"action_items": actions}),
            (
                "disk",
                "Database disk full",
                1,
                {"services": ["db"], "tags": [], "summary": "The volume ran out of space."},
            ),
            (
                "secret-cert",
                "Certificate expired on payments",
                2,
                {"visibility": "restricted", "summary": "Payments API errors.", "tags": []},
            ),
            ("new-cert", "TLS certificate expired again", 9, {}),
        ):
            pm = _cert(key, title, **extra)
            create_postmortem(
                session,
                postmortem=pm,
                author="owner",  # type: ignore[arg-type]
                now=T + dt.timedelta(days=days),
                actor=owner,
            )
    return app_database


def test_seen_before_links_and_dismisses_recurrences_and_hides_restricted_incidents(
    browser_for: Make, certs: Database
) -> None:
    owner = browser_for("owner")
    assert 'hx-get="/incidents/new-cert/seen-before"' in owner.page("/incidents/new-cert")
    page = owner.page("/incidents/new-cert/seen-before")  # the page loads it after itself
    assert "Seen before" in page and "Certificate expired on ingress" in page
    assert "Possible recurrence of" in page
    assert (
        "1 of 2 preventive actions done; &#39;Alert on certificate expiry&#39; still open" in page
    )
    answer = owner.submit("/incidents/new-cert/recurrence", {"other": "old-cert", "action": "link"})
    assert answer.status_code == 303  # type: ignore[attr-defined]
    later = owner.page("/incidents/new-cert/seen-before")
    # The linked one is no longer suggested (the next best may be: these incidents share most
    # of the factory's words).
    assert "Recurrence of" in later and SUGGESTED.format("old-cert") not in later
    assert "Recurred as" in owner.page("/incidents/old-cert/seen-before")
    assert "recurrence" in owner.page("/incidents/old-cert/history")
    listed = owner.page("/?recurring=true")
    assert "new-cert" in listed and "old-cert" in listed and "/incidents/disk" not in listed
    api = owner.get("/api/v1/incidents/new-cert/similar").json()
    assert api["mode"] == "hybrid"
    assert api["recurrence"] is None or api["recurrence"]["key"] != "old-cert"
    assert api["links"][0]["key"] == "old-cert" and api["links"][0]["earlier"] is True
    assert api["items"][0]["why"]["services"] == ["ingress"]
    # Dismissing is remembered (one database for the whole story: each new one costs seconds).
    owner.submit("/incidents/new-cert/recurrence", {"other": "old-cert", "action": "unlink"})
    assert SUGGESTED.format("old-cert") in owner.page("/incidents/new-cert/seen-before")
    for other in ("secret-cert", "old-cert", "disk"):
        owner.submit("/incidents/new-cert/recurrence", {"other": other, "action": "dismiss"})
    assert "Possible recurrence of" not in owner.page("/incidents/new-cert/seen-before")
    bad = owner.submit("/incidents/new-cert/recurrence", {"other": "old-cert", "action": "merge"})
    assert bad.status_code == 400  # type: ignore[attr-defined]
    assert "is not one of link, dismiss, unlink" in bad.text  # type: ignore[attr-defined]
    # Visibility: the owner sees the restricted incident among the similar ones, outsiders not.
    assert "Certificate expired on payments" in owner.page("/incidents/new-cert/seen-before")
    outsider = browser_for("outsider")
    page = outsider.page("/incidents/new-cert/seen-before")
    assert "Seen before" in page and "Certificate expired on payments" not in page
    api = outsider.get("/api/v1/incidents/new-cert/similar").json()
    assert "secret-cert" not in [item["key"] for item in api["items"]]
    assert outsider.get("/api/v1/incidents/secret-cert/similar").status_code == 404
