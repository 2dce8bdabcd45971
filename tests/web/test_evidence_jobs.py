"""A large evidence upload is imported by a worker: its job page shows the bytes read and
then what the import added; an upload that turns out unreadable fails the job with the reason
and writes no evidence. The worker is a thread with its own connection pool, on SQLite and
PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from hindsight.services.accounts import list_users
from hindsight.services.database import Database
from hindsight.services.demo import load_demo
from hindsight.services.evidence import list_evidence
from hindsight.services.evidence_jobs import BytesRead
from hindsight.storage.models import JobRow
from tests.web.conftest import Browser
from tests.web.test_import_jobs import run_worker

DEMO = "2018-01-18-reddit-hugs-mybinder"
GIT = Path(__file__).parents[1] / "data" / "git" / "mybinder.org-deploy.first-parent.2018-01.jsonl"
WINDOW = {"since": "2018-01-18T00:00", "until": "2018-01-18T23:59", "tz": "America/Los_Angeles"}
Make = Callable[[str | None], Browser]


@pytest.fixture
def small_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Uploads over 1 KB are large (set as an operator would, by env); the git log is 6 KB."""
    monkeypatch.setenv("HINDSIGHT_IMPORT_JOB_BYTES", "1024")


def _start(client: Browser, app_database: Database) -> tuple[str, str]:
    with app_database.transaction() as session:
        load_demo(session, author="demo")
    client.page(f"/incidents/{DEMO}")
    with GIT.open("rb") as handle:
        preview = client.post(
            f"/incidents/{DEMO}/evidence/preview",
            data={"csrf_token": client.csrf, "kind": "git", **WINDOW},
            files={"file": (GIT.name, handle, "application/octet-stream")},
            headers={"HX-Request": "true"},
        )
    assert "1 new suggested event" in preview.text, preview.text[:300]
    token = re.search(r'name="upload" value="([^"]+)"', preview.text)
    assert token
    started = client.submit(
        f"/incidents/{DEMO}/evidence/import", {"upload": token.group(1), "kind": "git", **WINDOW}
    )
    assert started.status_code == 303, started.text[:300]  # type: ignore[attr-defined]
    location: str = started.headers["location"]  # type: ignore[attr-defined]
    assert re.fullmatch(r"/jobs/\d+", location)
    return location, token.group(1)


def test_a_large_evidence_upload_is_imported_by_a_worker_and_its_page_says_what_it_added(
    small_limit: None, browser_for: Make, app_database: Database, tmp_path: Path
) -> None:
    owner = browser_for("owner")
    location, token = _start(owner, app_database)
    waiting = owner.page(location)
    assert 'data-state="queued"' in waiting and f"Evidence import into {DEMO}" in waiting
    assert browser_for("teammate").get(location).status_code == 404  # not theirs
    with app_database.reading() as session:
        assert list_evidence(session, key=DEMO) == []

    run_worker(app_database, tmp_path, "import_evidence")

    done = owner.page(location)
    assert 'data-state="done"' in done and "hx-get" not in done
    assert "1 added as suggestions, 0 merged, 19 skipped" in done
    assert f'href="/incidents/{DEMO}#evidence" role="button"' in done
    with app_database.reading() as session:
        [event] = list_evidence(session, key=DEMO)
    assert event.kind == "git"
    assert not (tmp_path / "uploads" / token).exists()


def test_an_upload_unreadable_when_the_worker_reads_it_fails_the_job_and_writes_nothing(
    small_limit: None, browser_for: Make, app_database: Database, tmp_path: Path
) -> None:
    owner = browser_for("owner")
    location, token = _start(owner, app_database)
    [upload] = (tmp_path / "uploads" / token).iterdir()
    with upload.open("a", encoding="utf-8") as out:  # the file changed after the preview
        out.write('{"sha": "cut short\n')

    run_worker(app_database, tmp_path, "import_evidence")

    failed = owner.page(location)
    assert 'data-state="failed"' in failed and 'role="alert"' in failed
    message = re.search(r"The import failed: ([^<]*)<", failed)
    assert message and message.group(1).startswith(f"{GIT.name}:21: not valid JSON")
    assert message.group(1).endswith("no evidence was imported")
    with app_database.reading() as session:
        assert list_evidence(session, key=DEMO) == []


def test_the_bytes_read_are_saved_on_the_job_as_they_go(app_database: Database) -> None:
    now = dt.datetime.now(dt.UTC)
    with app_database.transaction() as session:
        owner = next(a for a, _ in list_users(session) if a.username == "owner")
        job = JobRow(
            kind="import.evidence",
            user_id=owner.id,
            incident_key=DEMO,
            params={},
            state="running",
            progress=0,
            message="",
            created_at=now,
            updated_at=now,
        )
        session.add(job)
        session.flush()
        job_id = job.id
    progress = BytesRead(app_database, job_id, 2000)
    seen = []
    for amount in (500, 500, 1000):
        progress.advance(amount)
        with app_database.reading() as session:
            row = session.get(JobRow, job_id)
            assert row is not None
            seen.append((row.progress, row.message))
    assert seen == [
        (22, "Read 500 of 2,000 bytes"),
        (45, "Read 1,000 of 2,000 bytes"),
        (90, "Read 2,000 of 2,000 bytes"),
    ]
