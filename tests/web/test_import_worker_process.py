"""A real `hindsight worker` process, started with the same HINDSIGHT_DATABASE_URL and
HINDSIGHT_DATA_DIR as the web, finds the uploads of a queued archive import and a queued
evidence import in the data folder and runs both; their pages show them done."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from hindsight.services.database import Database
from hindsight.services.evidence import list_evidence
from hindsight.services.incidents import list_postmortems
from tests.web import test_evidence_jobs, test_import_jobs
from tests.web.conftest import Browser

DEADLINE = 90.0
Make = Callable[[str | None], Browser]


@pytest.fixture
def large(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HINDSIGHT_IMPORT_JOB_REPORTS", "2")
    monkeypatch.setenv("HINDSIGHT_IMPORT_JOB_BYTES", "1024")


def _finished(client: Browser, location: str) -> str:
    """The job page once the job has finished (a worker process runs it meanwhile)."""
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        page = client.page(location)
        if 'data-state="done"' in page or 'data-state="failed"' in page:
            return page
        time.sleep(0.2)
    raise AssertionError(f"{location} did not finish in {DEADLINE} s")


# On the embedded SQLite default only, the `make run` case and the one where two processes
# share a write lock: both backends run the same jobs with a worker on its own connection pool
# in test_import_jobs.py and test_evidence_jobs.py (a process costs seconds to start).
@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_worker_process_with_the_same_settings_runs_queued_imports(
    large: None, browser_for: Make, app_database: Database, tmp_path: Path
) -> None:
    owner = browser_for("owner")
    archive, _ = test_import_jobs._start(owner)
    evidence, _ = test_evidence_jobs._start(owner, app_database)
    env = os.environ | {
        "HINDSIGHT_DATABASE_URL": app_database.engine.url.render_as_string(hide_password=False),
        "HINDSIGHT_DATA_DIR": str(tmp_path),  # the web app's data_dir (tests/web/conftest.py)
        "HINDSIGHT_WORKER_POLL_SECONDS": "0.2",
    }
    command = [sys.executable, "-m", "hindsight", "worker", "--no-periodic"]
    worker = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        archive_page = _finished(owner, archive)
        evidence_page = _finished(owner, evidence)
    finally:
        worker.send_signal(signal.SIGINT)
        _, errors = worker.communicate(timeout=30)
    assert 'data-state="done"' in archive_page, errors.decode()[-2000:]
    assert "4 reports: 3 created, 0 updated, 1 refused" in archive_page
    assert 'data-state="done"' in evidence_page, errors.decode()[-2000:]
    assert "1 added as suggestions" in evidence_page
    with app_database.reading() as session:
        assert list_postmortems(session).total == 4  # the demo and the three reports
        assert len(list_evidence(session, key=test_evidence_jobs.DEMO)) == 1
