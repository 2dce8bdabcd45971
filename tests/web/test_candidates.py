"""Root-cause candidates on the postmortem page (one click into the analysis) and in the API;
both databases, real evidence (the mybinder deploy history)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from hindsight.domain.access import Actor
from hindsight.importers.base import ImportOptions, Source
from hindsight.services.accounts import create_token, list_users
from hindsight.services.database import Database
from hindsight.services.demo import load_demo
from hindsight.services.imports import import_evidence
from hindsight.services.incidents import get_postmortem
from tests.web.conftest import Browser

DEMO = "2018-01-18-reddit-hugs-mybinder"
GIT = (
    Path(__file__).parent.parent / "data" / "git" / "mybinder.org-deploy.first-parent.2018-01.jsonl"
)
Make = Callable[[str | None], Browser]


def _demo_with_git(database: Database) -> None:
    with database.transaction() as session:
        load_demo(session, author="demo")
        import_evidence(
            session,
            key=DEMO,
            kind="git",
            source=Source.open(GIT),
            options=ImportOptions(),
            author="owner",
        )


def _token(database: Database, username: str) -> dict[str, str]:
    with database.transaction() as session:
        actor: Actor = next(a for a, _ in list_users(session) if a.username == username)
        return {"Authorization": f"Bearer {create_token(session, actor=actor, name='test')}"}


def test_candidates_on_the_page_and_in_the_api_and_proposals_spanning_years_warn(
    browser_for: Make, app_database: Database
) -> None:
    _demo_with_git(app_database)
    # PagerDuty examples from 2015 and 2017: proposals from them span years.
    pagerduty = GIT.parent.parent / "pagerduty"
    with app_database.transaction() as session:
        for name in (
            "GET_incidents__200__response.json",
            "webhooks-v2_02_incident.acknowledge.json",
        ):
            import_evidence(
                session,
                key=DEMO,
                kind="pagerduty",
                source=Source.open(pagerduty / name),
                options=ImportOptions(),
                author="owner",
            )
    reader = browser_for("reader")
    seen = reader.page(f"/incidents/{DEMO}")
    assert 'id="candidates"' in seen and "Add as contributing factor" not in seen
    refused = reader.submit(
        f"/incidents/{DEMO}/candidates/accept", {"ref": "evidence:1", "as": "factor"}
    )
    assert refused.status_code == 403  # type: ignore[attr-defined]

    owner = browser_for("owner")
    page = owner.page(f"/incidents/{DEMO}")
    proposals = page.split('class="proposals"')[1].split("</details>")[0]
    assert "Warning: the proposed moments lie" in proposals and "If marked:" not in proposals
    section = page.split('id="candidates"')[1].split("</details>")[0]
    assert "Merge pull request #287" in section.split("<tr>")[2]  # the first row
    assert "Add as contributing factor" in section
    assert "Accept as trigger" not in section  # the demo's trigger is written already
    ref = section.split('name="ref" value="')[1].split('"')[0]
    done = owner.submit(f"/incidents/{DEMO}/candidates/accept", {"ref": ref, "as": "factor"})
    assert done.status_code == 303  # type: ignore[attr-defined]
    with app_database.reading() as session:
        factors = get_postmortem(session, key=DEMO).postmortem.analysis.contributing_factors
    assert "Merge pull request #287" in factors[-1].description
    assert "Merge pull request #287" in owner.page(f"/incidents/{DEMO}/history")

    # The API: the same ranking with its factors, and the same one-click acceptance.
    api = browser_for(None)
    headers = _token(app_database, "owner")
    listed = api.get(f"/api/v1/incidents/{DEMO}/candidates", headers=headers)
    assert listed.status_code == 200
    top = listed.json()["candidates"][0]
    assert top["kind"] == "change" and "#287" in top["text"]
    assert {f["name"] for f in top["factors"]} >= {"kind", "time", "config"}
    second = listed.json()["candidates"][1]  # the first is a factor already, from the page
    accepted = api.post(
        f"/api/v1/incidents/{DEMO}/candidates/accept",
        json={"ref": second["ref"], "as": "factor"},
        headers=headers,
    )
    assert accepted.status_code == 200
    assert "#285" in accepted.json()["contributing_factors"][-1]["description"]
    wrong = api.post(
        f"/api/v1/incidents/{DEMO}/candidates/accept",
        json={"ref": top["ref"], "as": "cause"},
        headers=headers,
    )
    assert wrong.status_code == 422


def test_the_html_report_lists_the_candidates_from_the_page_and_the_api(
    browser_for: Make, app_database: Database
) -> None:
    _demo_with_git(app_database)
    owner = browser_for("owner")
    page = owner.page(f"/incidents/{DEMO}/export.html")
    assert '<section class="candidates">' in page
    assert "Merge pull request #287" in page.split('<section class="candidates">')[1]
    api = browser_for(None)
    headers = _token(app_database, "owner")
    exported = api.get(f"/api/v1/incidents/{DEMO}/export?format=html", headers=headers)
    assert exported.status_code == 200
    assert "Merge pull request #287" in exported.text.split('<section class="candidates">')[1]
