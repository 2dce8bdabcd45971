"""PDF reports rendered by a worker: a job row records who asked, its progress and the result,
so the page that follows it shows where it is after a reload, in any web process."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import update

from hindsight.domain.access import Actor
from hindsight.errors import NotFoundError
from hindsight.services.accounts import get_actor
from hindsight.services.database import Database, Session
from hindsight.services.incidents import get_postmortem
from hindsight.services.reports import (
    Report,
    ReportFormat,
    build_report,
    prepare_report,
    report_metrics,
)
from hindsight.storage.models import JobRow

PDF_MEDIA = "application/pdf"


@dataclass(frozen=True)
class JobInfo:
    """A job as the person who started it sees it."""

    id: int
    kind: str
    incident_key: str
    state: str  # queued, running, done, failed
    progress: int
    message: str
    created_at: dt.datetime
    updated_at: dt.datetime

    @property
    def finished(self) -> bool:
        return self.state in ("done", "failed")


def start_report_job(
    session: Session,
    *,
    actor: Actor,
    key: str,
    template: str,
    default_template: str,
    now: dt.datetime,
) -> int:
    """Record a PDF render of `key` for `actor` (who must see it); the job's id to enqueue."""
    _, chosen = prepare_report(
        session,
        key=key,
        fmt=ReportFormat.PDF,
        template=template or None,
        default_template=default_template,
        actor=actor,
    )
    row = JobRow(
        kind="report.pdf",
        user_id=actor.id,
        incident_key=key,
        params={"template": chosen},
        state="queued",
        progress=0,
        message="Waiting for a worker",
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return row.id


def _own(session: Session, actor: Actor, job_id: int) -> JobRow:
    row = session.get(JobRow, job_id)
    if row is None or row.user_id != actor.id:
        raise NotFoundError(f"you have no job {job_id}")
    return row


def get_job(session: Session, *, actor: Actor, job_id: int) -> JobInfo:
    """One of `actor`'s jobs."""
    row = _own(session, actor, job_id)
    return JobInfo(
        row.id,
        row.kind,
        row.incident_key,
        row.state,
        row.progress,
        row.message,
        row.created_at,
        row.updated_at,
    )


def job_result(session: Session, *, actor: Actor, job_id: int) -> Report:
    """The finished job's PDF; the incident is checked again, as `actor` sees it now."""
    row = _own(session, actor, job_id)
    if row.kind != "report.pdf":
        raise NotFoundError(f"job {job_id} has no file to download; its page shows the result")
    if row.state != "done" or row.result is None:
        raise NotFoundError(f"job {job_id} has no result yet ({row.state})")
    get_postmortem(session, key=row.incident_key, actor=actor)
    return Report(bytes(row.result), PDF_MEDIA, f"{row.incident_key}.pdf")


def _progress(database: Database, job_id: int, *, state: str, progress: int, message: str) -> None:
    with database.transaction() as session:
        session.execute(
            update(JobRow)
            .where(JobRow.id == job_id)
            .values(
                state=state,
                progress=progress,
                message=message,
                updated_at=dt.datetime.now(dt.UTC),
            )
        )


def run_report_job(database: Database, *, job_id: int, team_dir: Path | None) -> None:
    """Render the job's PDF as the person who asked (their access checked again now), saving
    progress as it goes: read, render, store. A failure is saved with its reason."""
    with database.transaction() as session:
        claimed = session.execute(
            update(JobRow)
            .where(JobRow.id == job_id, JobRow.state == "queued")
            .values(state="running", progress=10, message="Reading the postmortem")
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return  # gone, or another worker has it
        row = session.get(JobRow, job_id)
        assert row is not None
        template, key, user_id = str(row.params["template"]), row.incident_key, row.user_id
    try:
        with database.reading() as session:
            actor = get_actor(session, user_id=user_id)
            if actor is None:
                raise NotFoundError("the account that asked for this report is disabled")
            postmortem, chosen = prepare_report(
                session,
                key=key,
                fmt=ReportFormat.PDF,
                template=template,
                default_template=template,
                actor=actor,
            )
            metrics = report_metrics(session, key=key, actor=actor, postmortem=postmortem)
        _progress(database, job_id, state="running", progress=40, message="Rendering the PDF")
        report = build_report(postmortem, ReportFormat.PDF, chosen, team_dir, metrics)
    except Exception as error:  # the page says why; the worker goes on
        _progress(database, job_id, state="failed", progress=100, message=str(error))
        return
    with database.transaction() as session:
        session.execute(
            update(JobRow)
            .where(JobRow.id == job_id)
            .values(
                state="done",
                progress=100,
                message=f"{len(report.content) // 1024 + 1} KB",
                result=report.content,
                updated_at=dt.datetime.now(dt.UTC),
            )
        )
