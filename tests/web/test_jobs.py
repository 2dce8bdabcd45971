"""A PDF rendered by a worker: the job page shows its progress, survives a reload, and only
the person who asked sees it or downloads the result."""

from __future__ import annotations

from collections.abc import Callable

from hindsight.config import Settings
from hindsight.services.accounts import list_users
from hindsight.services.database import Database
from hindsight.services.incidents import create_postmortem
from hindsight.services.jobs import JobQueue
from tests.factories import make_postmortem
from tests.web.conftest import Browser

Make = Callable[[str | None], Browser]
KEY = "2024-03-05-checkout-errors"


def test_a_pdf_job_is_queued_rendered_by_a_worker_and_downloaded_by_its_owner(
    browser_for: Make, app_database: Database, tmp_path: object
) -> None:
    with app_database.transaction() as session:
        owner = next(a for a, _ in list_users(session) if a.username == "owner")
        create_postmortem(session, postmortem=make_postmortem(), author="owner", actor=owner)
    client = browser_for("owner")
    assert "Render PDF in the background" in client.page(f"/incidents/{KEY}")
    started = client.submit(f"/incidents/{KEY}/reports/pdf", {"template": "google-sre"})
    location = started.headers["location"]  # type: ignore[attr-defined]
    assert location.startswith("/jobs/")
    waiting = client.page(location)
    assert 'data-state="queued"' in waiting and f'hx-get="{location}"' in waiting
    assert client.get(f"{location}/download").status_code == 404  # nothing yet
    assert browser_for("teammate").get(location).status_code == 404  # not theirs

    # A worker takes the job from the queue and runs it (huey's own execute, in this process).
    queue = JobQueue(app_database, Settings(data_dir=tmp_path))  # type: ignore[arg-type]
    task = queue.huey.dequeue()
    assert task is not None and task.name == "render_report"
    queue.huey.execute(task)

    refused = client.submit("/incidents/no-such-incident/reports/pdf", {})
    assert refused.status_code == 404 and queue.pending() == 0  # type: ignore[attr-defined]

    done = client.page(location)  # a reload: the state is in the database
    assert 'data-state="done"' in done and "hx-get" not in done
    pdf = client.get(f"{location}/download")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-disposition"] == f'attachment; filename="{KEY}.pdf"'
