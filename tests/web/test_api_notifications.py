"""The API for channels, the delivery log and background PDF jobs."""

from __future__ import annotations

from collections.abc import Callable

from hindsight.config import Settings
from hindsight.services.accounts import list_users
from hindsight.services.database import Database
from hindsight.services.incidents import create_postmortem
from hindsight.services.jobs import JobQueue
from tests.factories import make_postmortem
from tests.web.conftest import Browser
from tests.web.test_api import _token

Make = Callable[[str | None], Browser]
KEY = "2024-03-05-checkout-errors"


def test_channels_deliveries_and_a_pdf_job_through_the_api(
    browser_for: Make, app_database: Database
) -> None:
    with app_database.transaction() as session:
        owner = next(a for a, _ in list_users(session) if a.username == "owner")
        create_postmortem(session, postmortem=make_postmortem(), author="owner", actor=owner)
    client = browser_for(None)
    me = _token(app_database, "owner")
    bad = client.post("/api/v1/me/channels", json={"kind": "email", "target": "x"}, headers=me)
    assert bad.status_code == 400 and "is not an e-mail address" in bad.json()["error"]["message"]
    made = client.post(
        "/api/v1/me/channels", json={"kind": "webhook", "target": "https://h.example/x"}, headers=me
    )
    assert made.status_code == 201 and len(made.json()["secret"]) >= 32
    listed = client.get("/api/v1/me/channels", headers=me).json()
    assert [c["target"] for c in listed] == ["https://h.example/x"]
    others = _token(app_database, "outsider")
    assert client.get("/api/v1/me/channels", headers=others).json() == []
    gone = client.delete(f"/api/v1/me/channels/{made.json()['id']}", headers=others)
    assert gone.status_code == 404
    assert client.delete(f"/api/v1/me/channels/{made.json()['id']}", headers=me).status_code == 204
    assert client.get("/api/v1/deliveries", headers=me).status_code == 403
    log = client.get("/api/v1/deliveries?status=failed", headers=_token(app_database, "boss"))
    assert log.status_code == 200 and log.json() == {"items": [], "total": 0}

    job = client.post(f"/api/v1/incidents/{KEY}/reports/pdf", json={}, headers=me)
    assert job.status_code == 202 and job.json()["state"] == "queued"
    url = f"/api/v1/jobs/{job.json()['id']}"
    assert client.get(url, headers=others).status_code == 404
    queue = JobQueue(app_database, Settings())
    queue.huey.execute(queue.huey.dequeue())
    assert client.get(url, headers=me).json()["state"] == "done"
    pdf = client.get(f"{url}/download", headers=me)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
