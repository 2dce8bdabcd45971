"""Large archive imports run by a worker: the upload is kept in the uploads folder under the
data dir (the web and every worker must share `data_dir`), a job row records who asked, how
many reports are done of how many, and what each report became.

Small imports stay immediate (the web runs them in its request); one is large when it has more
than `settings.import_job_reports` reports or its files are over `settings.import_job_bytes`.

The worker commits one report at a time (a hundredth of the reports at a time for an import of
over a hundred), with the job's progress in the same transaction: each report is imported
whole (in its own savepoint) or refused, the page's "done" count is exactly what is written, and
a job that fails (the upload gone, the account disabled, the database down) says why on its
page and leaves no report half written.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

from sqlalchemy import update

from hindsight.config import Settings
from hindsight.domain.access import Actor
from hindsight.errors import InvalidInputError, NotFoundError
from hindsight.services.accounts import get_actor
from hindsight.services.archive_import import (
    FileOutcome,
    headings_for,
    import_archive,
    summarise,
)
from hindsight.services.archive_sources import ReportInput, read_zip, source_name
from hindsight.services.database import Database, Session
from hindsight.storage.models import JobRow

ARCHIVE_KIND = "import.archive"
GONE = "that upload is gone; choose the files again"


def upload_dir(settings: Settings) -> Path:
    """Where uploads wait between preview and import: `uploads` in the data folder."""
    return settings.data_dir / "uploads"


def archive_folder(uploads: Path, token: str) -> Path:
    """The folder of one archive upload; a token that cannot be one is refused."""
    if not token or not token.replace("-", "").replace("_", "").isalnum() or len(token) > 64:
        raise InvalidInputError(GONE)
    return uploads / f"archive-{token}"


def read_archive_upload(uploads: Path, token: str) -> tuple[Path, list[ReportInput]]:
    """The reports of a kept archive upload (its manifest names the files)."""
    folder = archive_folder(uploads, token)
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise InvalidInputError(GONE) from None
    reports: list[ReportInput] = []
    for entry in manifest:
        path = folder / entry["file"]
        if entry["name"].lower().endswith(".zip"):
            reports += read_zip(path, name=entry["name"])
        elif entry["refusal"]:
            reports.append(ReportInput(source_name(entry["name"]), None, entry["refusal"]))
        else:
            reports.append(ReportInput(source_name(entry["name"]), path.read_bytes()))
    return folder, reports


def upload_bytes(folder: Path) -> int:
    """The size of an upload's files."""
    return sum(entry.stat().st_size for entry in folder.iterdir() if entry.is_file())


def is_large(settings: Settings, *, reports: int, size: int) -> bool:
    """Whether an import of this many reports and bytes runs as a job."""
    return reports > settings.import_job_reports or size > settings.import_job_bytes


def start_archive_job(
    session: Session,
    *,
    actor: Actor,
    folder: Path,
    token: str,
    reports: int,
    zone: str | None,
    layout: str,
    now: dt.datetime,
) -> int:
    """Record an archive import for a worker; the job's id to enqueue. The upload's time is
    renewed so the stale-upload sweep leaves it for `upload_lifetime_minutes` from now."""
    stamp = time.time()
    os.utime(folder, (stamp, stamp))
    row = JobRow(
        kind=ARCHIVE_KIND,
        user_id=actor.id,
        incident_key="",
        params={"upload": token, "zone": zone, "layout": layout, "total": reports},
        state="queued",
        progress=0,
        message=f"0 of {reports} reports; waiting for a worker",
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return row.id


def _as_json(outcome: FileOutcome) -> dict[str, Any]:
    return {
        "name": outcome.name,
        "outcome": outcome.outcome,
        "key": outcome.key,
        "title": outcome.title,
        "reason": outcome.reason,
    }


def _counts(outcomes: list[FileOutcome]) -> str:
    return ", ".join(f"{count} {name}" for name, count in summarise(outcomes).items())


def _save(
    session: Session,
    job_id: int,
    *,
    state: str,
    progress: int,
    message: str,
    outcomes: list[FileOutcome],
) -> None:
    session.execute(
        update(JobRow)
        .where(JobRow.id == job_id)
        .values(
            state=state,
            progress=progress,
            message=message,
            result=json.dumps([_as_json(o) for o in outcomes]).encode(),
            updated_at=dt.datetime.now(dt.UTC),
        )
    )


def batch_size(total: int) -> int:
    """Reports per transaction: one, or a hundredth of a large import, so the job's progress
    (and its outcomes so far) is saved at most about a hundred times."""
    return max(1, -(-total // 100))


def run_archive_job(database: Database, settings: Settings, *, job_id: int) -> None:
    """Import the job's upload as the person who asked (their access checked again now), one
    report per transaction with the progress saved in it; a failure is saved with its reason
    and the reports done so far, each of them whole."""
    with database.transaction() as session:
        claimed = session.execute(
            update(JobRow)
            .where(JobRow.id == job_id, JobRow.state == "queued", JobRow.kind == ARCHIVE_KIND)
            .values(state="running", message="Reading the upload")
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return  # gone, or another worker has it
        row = session.get(JobRow, job_id)
        assert row is not None
        params, user_id = dict(row.params), row.user_id
    outcomes: list[FileOutcome] = []
    try:
        with database.reading() as session:
            actor = get_actor(session, user_id=user_id)
        if actor is None:
            raise NotFoundError("the account that started this import is disabled")
        folder, reports = read_archive_upload(upload_dir(settings), str(params["upload"]))
        zone = str(params["zone"]) if params.get("zone") else None
        layout = str(params.get("layout") or "auto")
        headings = headings_for(settings.archive_headings)
        total = len(reports)
        step = batch_size(total)
        for start in range(0, total, step):
            batch = reports[start : start + step]
            done = start + len(batch)
            with database.transaction() as session:
                these = import_archive(
                    session,
                    batch,
                    author=actor.username,
                    actor=actor,
                    zone=zone,
                    layout=layout,
                    headings=headings,
                )
                _save(
                    session,
                    job_id,
                    state="running",
                    progress=done * 100 // max(total, 1),
                    message=f"{done} of {total} reports: {batch[-1].name}",
                    outcomes=outcomes + these,
                )
            outcomes += these  # committed: only now are they done
    except Exception as error:  # the page says why; the worker goes on
        with database.transaction() as session:
            _save(
                session,
                job_id,
                state="failed",
                progress=100,
                message=f"{error} ({len(outcomes)} report(s) were done before, each whole)",
                outcomes=outcomes,
            )
        return
    with database.transaction() as session:
        _save(
            session,
            job_id,
            state="done",
            progress=100,
            message=f"{total} reports: {_counts(outcomes)}",
            outcomes=outcomes,
        )
    shutil.rmtree(folder, ignore_errors=True)


def job_outcomes(session: Session, *, actor: Actor, job_id: int) -> list[FileOutcome]:
    """What each report of `actor`'s archive job became so far ([] for another kind)."""
    row = session.get(JobRow, job_id)
    if row is None or row.user_id != actor.id:
        raise NotFoundError(f"you have no job {job_id}")
    if row.kind != ARCHIVE_KIND or not row.result:
        return []
    return [FileOutcome(**entry) for entry in json.loads(bytes(row.result))]
