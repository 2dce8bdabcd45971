"""Metric series on the page and in the API: the chart under the timeline, computed numbers
with their formulas, accepting them, and importing a series through the API (a bad one is
refused with its line and stores nothing)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hindsight.config import Settings
from hindsight.domain.access import Role
from hindsight.services.accounts import create_user
from hindsight.services.database import Database
from hindsight.services.incidents import get_postmortem
from hindsight.web.app import create_app
from hindsight.web.forms import SECTIONS, section_values
from tests.factories import make_incident
from tests.web.conftest import PASSWORD, Browser

KEY = "2014-03-ec2"
NAB = Path(__file__).parents[1] / "data" / "metrics" / "ec2_request_latency_system_failure.csv"


SLO = {
    "slo_target_percent": 99.9,
    "slo": {
        "service": "api",
        "objective": "latency",
        "window_days": 30,
        "latency_threshold_ms": 60,
    },
}


@pytest.fixture
def owner(fresh_database: Database, tmp_path: Path) -> Iterator[Browser]:
    """One signed-in editor (the persona matrix covers who else may see these routes)."""
    with fresh_database.transaction() as session:
        create_user(session, username="owner", password=PASSWORD, role=Role.EDITOR)
        make_incident(session, key=KEY, impact=SLO)
    settings = Settings(
        database_url="unused://", admin_password="admin password 1", data_dir=tmp_path
    )
    with Browser(create_app(settings, fresh_database)) as client:
        client.page("/login")
        client.post(
            "/login",
            data={
                "username": "owner",
                "password": PASSWORD,
                "csrf_token": client.csrf,
                "next": "/",
            },
            follow_redirects=False,
        )
        client.page("/")  # the signed-in session's CSRF token
        yield client


def test_a_series_sent_to_the_api_is_charted_on_the_page_and_its_numbers_accepted(
    owner: Browser, fresh_database: Database
) -> None:
    owner.page(f"/incidents/{KEY}")
    headers = {"X-CSRF-Token": owner.csrf}
    bad = owner.post(
        f"/api/v1/incidents/{KEY}/metrics",
        json={"role": "latency", "content": "timestamp,value\n2024-01-01T00:00:00Z,slow\n"},
        headers=headers,
    )
    assert bad.status_code == 400
    assert "series.csv:2: field 'value': 'slow' is not a number" in bad.text
    assert owner.get(f"/api/v1/incidents/{KEY}/impact").json()["series"] == []
    answer = owner.post(
        f"/api/v1/incidents/{KEY}/metrics",
        json={"role": "latency", "filename": NAB.name, "content": NAB.read_text()},
        headers=headers,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["series"][0]["points"] == 4032
    assert answer.json()["windows"][0]["basis"] == "latency above 60 ms"

    page = owner.page(f"/incidents/{KEY}")
    assert 'aria-labelledby="metrics-title metrics-desc"' in page
    assert "latency above 60 ms" in page and "SLO threshold 60 ms" in page
    assert 'name="field" value="downtime_minutes"' in page and "43.2 minutes" in page

    response = owner.submit(
        f"/incidents/{KEY}/impact/accept", {"field": "error_budget_burned_percent"}
    )
    assert response.status_code == 303  # type: ignore[attr-defined]
    report = owner.get(f"/api/v1/incidents/{KEY}/impact").json()
    budget = next(n for n in report["numbers"] if n["field"] == "error_budget_burned_percent")
    with fresh_database.reading() as session:
        impact = get_postmortem(session, key=KEY).postmortem.impact
    assert impact.error_budget_burned_percent == budget["value"]
    assert impact.source_of("error_budget_burned_percent") is not None
    assert "computed: bad minutes" in owner.page(f"/incidents/{KEY}")

    accepted = owner.post(
        f"/api/v1/incidents/{KEY}/impact/accept",
        json={"fields": ["downtime_minutes"]},
        headers=headers,
    )
    assert accepted.status_code == 200 and "downtime_minutes" in accepted.json()["accepted"]
    html = owner.get(f"/incidents/{KEY}/export.html").text
    assert 'aria-labelledby="metrics-title metrics-desc"' in html
    assert "How it was found" in html and "computed: sum of the impact windows" in html


def test_the_slo_backup_time_and_hourly_cost_are_set_in_the_impact_form(
    owner: Browser, fresh_database: Database
) -> None:
    with fresh_database.reading() as session:
        stored = get_postmortem(session, key=KEY)
    form = section_values(SECTIONS["impact"], stored.postmortem)
    form.update(
        {
            "impact.slo.latency_threshold_ms": "",  # a latency SLO without its threshold
            "impact.cost.hourly_cost": "120",
            "impact.cost.currency": "EUR",
            "impact.data_loss.last_good_backup_at": "2014-03-18T00:00:00+00:00",
            "version": str(stored.version),
        }
    )
    refused = owner.submit(f"/incidents/{KEY}/sections/impact", form)
    assert refused.status_code == 422  # type: ignore[attr-defined]
    assert "latency SLO needs its threshold" in refused.text  # type: ignore[attr-defined]
    form["impact.slo.latency_threshold_ms"] = "80"
    saved = owner.submit(f"/incidents/{KEY}/sections/impact", form)
    assert saved.status_code == 303  # type: ignore[attr-defined]
    with fresh_database.reading() as session:
        impact = get_postmortem(session, key=KEY).postmortem.impact
    assert impact.slo.latency_threshold_ms == 80 and impact.cost.hourly_cost == 120
    assert impact.data_loss.last_good_backup_at is not None
