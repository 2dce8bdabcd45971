"""Large evidence imports run by a worker: an upload over `settings.import_job_bytes` is kept
in the uploads folder under the data dir (the web and every worker must share `data_dir`), and
a job row records who asked, how many bytes the importer has read of how many, and what the
import added, merged and skipped.

The worker reads the whole file first, saving its progress as it goes, and only then imports
what it found in one transaction that also marks the job done: the import stays all-or-nothing,
and a job that fails (an unreadable record, the upload gone, the account disabled) says why on
its page and writes no evidence at all.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import time
from pathlib import Path
from typing import Any

from sqlalchemy import update

from hindsight.config import Settings
from hindsight.domain.access import Actor
from hindsight.errors import NotFoundError
from hindsight.importers.base import ImportOptions, Source
from hindsight.services.accounts import get_actor
from hindsight.services.database import Database, Session
from hindsight.services.evidence import require_importer_rights
from hindsight.services.import_jobs import upload_dir
from hindsight.services.imports import ImportSummary, import_evidence, read_evidence
from hindsight.storage.models import JobRow

EVIDENCE_KIND = "import.evidence"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
GONE = "that upload is gone; choose the file again"


def evidence_upload(uploads: Path, token: str) -> Path:
    """The file of one kept evidence upload."""
    folder = uploads / token
    files = sorted(folder.iterdir()) if _TOKEN.match(token) and folder.is_dir() else []
    if not files:
        raise NotFoundError(GONE)
    return files[0]


def start_evidence_job(
    session: Session,
    *,
    actor: Actor,
    key: str,
    kind: str,
    path: Path,
    token: str,
    options: ImportOptions,
    now: dt.datetime,
) -> int:
    """Record an evidence import into `key` (which `actor` must be able to import into) for a
    worker; the job's id to enqueue. The upload's time is renewed so the stale-upload sweep
    leaves it for `upload_lifetime_minutes` from now."""
    require_importer_rights(session, key, actor)
    stamp = time.time()
    os.utime(path.parent, (stamp, stamp))
    row = JobRow(
        kind=EVIDENCE_KIND,
        user_id=actor.id,
        incident_key=key,
        params={
            "upload": token,
            "kind": kind,
            "since": options.since.isoformat() if options.since else None,
            "until": options.until.isoformat() if options.until else None,
            "zone": options.zone,
            "channels": list(options.channels),
        },
        state="queued",
        progress=0,
        message="Waiting for a worker",
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return row.id


def _options(params: dict[str, Any]) -> ImportOptions:
    def moment(name: str) -> dt.datetime | None:
        value = params.get(name)
        return dt.datetime.fromisoformat(str(value)) if value else None

    return ImportOptions(
        since=moment("since"),
        until=moment("until"),
        zone=str(params.get("zone") or "UTC"),
        channels=tuple(str(c) for c in params.get("channels") or ()),
    )


def _save(session: Session, job_id: int, **values: Any) -> None:
    session.execute(
        update(JobRow)
        .where(JobRow.id == job_id)
        .values(**values, updated_at=dt.datetime.now(dt.UTC))
    )


class BytesRead:
    """The importer's progress, saved on the job whenever another percent has been read."""

    def __init__(self, database: Database, job_id: int, total: int) -> None:
        self.database, self.job_id, self.total = database, job_id, max(total, 1)
        self.read, self.saved = 0, -1

    def advance(self, amount: int) -> None:
        self.read += amount
        percent = min(self.read * 100 // self.total, 100)
        if percent > self.saved:
            self.saved = percent
            with self.database.transaction() as session:
                _save(
                    session,
                    self.job_id,
                    progress=percent * 9 // 10,  # the last tenth is the import itself
                    message=f"Read {min(self.read, self.total):,} of {self.total:,} bytes",
                )


def summary_message(summary: ImportSummary) -> str:
    """What an import did, in one line."""
    return (
        f"{len(summary.added)} added as suggestions, {summary.merged} merged, "
        f"{summary.skipped_total} skipped"
    )


def run_evidence_job(database: Database, settings: Settings, *, job_id: int) -> None:
    """Read the job's upload, then import it in one transaction as the person who asked
    (their access checked again now); a failure is saved with its reason and writes nothing."""
    with database.transaction() as session:
        claimed = session.execute(
            update(JobRow)
            .where(JobRow.id == job_id, JobRow.state == "queued", JobRow.kind == EVIDENCE_KIND)
            .values(state="running", message="Opening the upload")
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return  # gone, or another worker has it
        row = session.get(JobRow, job_id)
        assert row is not None
        params, user_id, key = dict(row.params), row.user_id, row.incident_key
    try:
        with database.reading() as session:
            actor = get_actor(session, user_id=user_id)
        if actor is None:
            raise NotFoundError("the account that started this import is disabled")
        path = evidence_upload(upload_dir(settings), str(params["upload"]))
        source = Source.open(path, label=path.name)
        options = _options(params)
        kind = str(params["kind"])
        found = read_evidence(kind, source, options, BytesRead(database, job_id, source.size))
        with database.transaction() as session:
            summary = import_evidence(
                session,
                key=key,
                kind=kind,
                source=source,
                options=options,
                author=actor.username,
                actor=actor,
                found=found,
            )
            _save(session, job_id, state="done", progress=100, message=summary_message(summary))
    except Exception as error:  # the page says why; the worker goes on
        with database.transaction() as session:
            _save(
                session,
                job_id,
                state="failed",
                progress=100,
                message=f"{error}; no evidence was imported",
            )
        return
    shutil.rmtree(path.parent, ignore_errors=True)
