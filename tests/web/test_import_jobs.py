"""A large archive import runs on a worker: the Import archive page hands it to a job, whose
page shows reports done of the total and, when finished, what each report became; a job
that fails says why and writes nothing. The worker is a thread with its own connection pool
(as another process has), on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from hindsight.config import Settings
from hindsight.services.database import Database, Session, open_database
from hindsight.services.import_jobs import batch_size, is_large, run_archive_job
from hindsight.services.incidents import list_postmortems
from hindsight.services.jobs import JobQueue
from tests.web.conftest import Browser

UNIVAF = Path(__file__).parents[1] / "data" / "archive" / "univaf-incidents"
Make = Callable[[str | None], Browser]


@pytest.fixture
def two_reports_is_large(monkeypatch: pytest.MonkeyPatch) -> None:
    """More than two reports make an import large (set as an operator would, by env)."""
    monkeypatch.setenv("HINDSIGHT_IMPORT_JOB_REPORTS", "2")


def _files() -> list[tuple[str, tuple[str, bytes, str]]]:
    files = [
        ("files", (f"univaf-incidents/{p.name}", p.read_bytes(), "text/markdown"))
        for p in sorted(UNIVAF.glob("*.md"))[:3]
    ]
    files.append(
        ("files", ("univaf-incidents/broken.pdf", b"%PDF-1.4 cut short", "application/pdf"))
    )
    return files


def _start(client: Browser) -> tuple[str, str]:
    """Preview the upload and press Import; the job page's address and the upload token."""
    client.page("/archive-import")
    preview = client.post(
        "/archive-import/preview", data={"csrf_token": client.csrf}, files=_files()
    )
    assert preview.status_code == 200, preview.text[:300]
    counts = re.search(r"<p role=\"status\">([^<]*)<", preview.text)
    assert counts and counts.group(1) == "0 created, 0 updated, 3 would create, 1 refused", counts
    token = re.search(r'name="upload" value="([^"]+)"', preview.text)
    assert token
    client.csrf = re.search(r'name="csrf_token" value="([^"]+)"', preview.text).group(1)  # type: ignore[union-attr]
    started = client.submit("/archive-import/import", {"upload": token.group(1)})
    assert started.status_code == 303, started.text[:300]  # type: ignore[attr-defined]
    location: str = started.headers["location"]  # type: ignore[attr-defined]
    assert re.fullmatch(r"/jobs/\d+", location)
    return location, token.group(1)


def run_worker(database: Database, data_dir: Path, job: str) -> None:
    """A worker on its own pool: take every queued job and run it, as `hindsight worker`
    does (huey's dequeue and execute), in a thread of its own."""
    worker_db = open_database(database.engine.url.render_as_string(hide_password=False))
    queue = JobQueue(worker_db, Settings(data_dir=data_dir))
    ran: list[str] = []

    def run() -> None:
        while (task := queue.huey.dequeue()) is not None:
            ran.append(task.name)
            queue.huey.execute(task)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    worker_db.dispose()
    assert ran == [job]


def test_a_large_archive_import_runs_on_a_worker_and_its_page_shows_progress_and_outcomes(
    two_reports_is_large: None, browser_for: Make, app_database: Database, tmp_path: Path
) -> None:
    owner = browser_for("owner")
    location, token = _start(owner)
    waiting = owner.page(location)
    assert 'data-state="queued"' in waiting and "0 of 4 reports" in waiting
    assert f'hx-get="{location}"' in waiting  # the page follows the job
    assert browser_for("teammate").get(location).status_code == 404  # not theirs
    with app_database.reading() as session:
        assert list_postmortems(session).total == 0  # nothing until a worker runs it

    run_worker(app_database, tmp_path, "import_archive")

    done = owner.page(location)  # a reload: the state is in the database
    assert 'data-state="done"' in done and "hx-get" not in done
    assert "4 reports: 3 created, 0 updated, 1 refused" in done
    assert 'href="/incidents/2021-06-03-database-full"' in done
    assert "univaf-incidents/broken.pdf" in done and 'class="problem"' in done
    assert owner.get(f"{location}/download").status_code == 404  # no file: the page is it
    api = owner.get(f"/api/v1{location}").json()
    assert (api["kind"], api["state"], api["progress"]) == ("import.archive", "done", 100)
    with app_database.reading() as session:
        assert list_postmortems(session).total == 3
    assert not (tmp_path / "uploads" / f"archive-{token}").exists()  # the upload is removed


def test_a_failed_import_job_says_why_and_writes_nothing(
    two_reports_is_large: None, browser_for: Make, app_database: Database, tmp_path: Path
) -> None:
    owner = browser_for("owner")
    location, token = _start(owner)
    shutil.rmtree(tmp_path / "uploads" / f"archive-{token}")  # e.g. a worker on another disk

    run_worker(app_database, tmp_path, "import_archive")

    failed = owner.page(location)
    assert 'data-state="failed"' in failed and 'role="alert"' in failed
    assert "The import failed: that upload is gone; choose the files again" in failed
    with app_database.reading() as session:
        assert list_postmortems(session).total == 0


@dataclass
class _CommitFailsOnce(Database):
    """The database, whose `nth` write transaction fails as it commits (the connection lost)."""

    nth: int = 0
    calls: int = 0

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        self.calls += 1
        with super().transaction() as session:
            yield session
            if self.calls == self.nth:
                raise OperationalError("COMMIT", {}, Exception("server closed the connection"))


def test_a_job_stopped_midway_has_written_exactly_the_reports_its_page_lists_each_whole(
    two_reports_is_large: None, browser_for: Make, app_database: Database, tmp_path: Path
) -> None:
    owner = browser_for("owner")
    location, _token = _start(owner)
    job_id = int(location.rsplit("/", 1)[1])
    # Transactions: 1 claims the job, 2 imports the first report, 3 (failing) the second.
    flaky = _CommitFailsOnce(app_database.engine, app_database.sessions, app_database.readers, 3)
    run_archive_job(flaky, Settings(data_dir=tmp_path), job_id=job_id)

    failed = owner.page(location)
    assert 'data-state="failed"' in failed
    assert "server closed the connection" in failed
    assert "(1 report(s) were done before, each whole)" in failed
    table = failed.split("<tbody>")[1].split("</tbody>")[0]
    assert table.count("<tr>") == 1  # the one report listed as done
    with app_database.reading() as session:
        [stored] = list_postmortems(session).items
    assert f'href="/incidents/{stored.key}">created {stored.key}</a>' in table


def test_small_imports_stay_immediate_and_either_limit_makes_one_large(
    browser_for: Make, app_database: Database
) -> None:
    settings = Settings(import_job_reports=20, import_job_bytes=1000)
    assert not is_large(settings, reports=20, size=1000)
    assert is_large(settings, reports=21, size=10) and is_large(settings, reports=1, size=1001)
    # A report per transaction, or a hundredth of a large import: about 100 saves at most.
    assert [batch_size(n) for n in (1, 100, 101, 5000)] == [1, 1, 2, 50]
    owner = browser_for("owner")  # the default limits: 20 reports, 5 MB
    owner.page("/archive-import")
    preview = owner.post("/archive-import/preview", data={"csrf_token": owner.csrf}, files=_files())
    token = re.search(r'name="upload" value="([^"]+)"', preview.text)
    assert token
    owner.csrf = re.search(r'name="csrf_token" value="([^"]+)"', preview.text).group(1)  # type: ignore[union-attr]
    done = owner.submit("/archive-import/import", {"upload": token.group(1)})
    assert done.status_code == 200 and "3 created" in done.text  # type: ignore[attr-defined]
