"""Long jobs started from the web (a PDF render): start one, follow its progress on a page
that survives a reload (the job's state is in the database), download the result."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from hindsight.domain.access import Actor
from hindsight.services.archive_import import summarise
from hindsight.services.database import Session
from hindsight.services.import_jobs import job_outcomes
from hindsight.services.report_jobs import get_job, job_result, start_report_job
from hindsight.web.deps import SESSION, database, form_fields, page_actor, render, verify_csrf

router = APIRouter()


@router.post("/incidents/{key}/reports/pdf", dependencies=[Depends(verify_csrf)])
async def report_job_start(
    request: Request, key: str, actor: Actor = Depends(page_actor)
) -> Response:
    """Queue a PDF render of this postmortem and follow it on its job page."""
    form = await form_fields(request)
    # Its own transaction, committed before the job is queued: a worker must find the row.
    with database(request).transaction() as session:
        job_id = start_report_job(
            session,
            actor=actor,
            key=key,
            template=form.get("template", ""),
            default_template=request.app.state.settings.default_template,
            now=dt.datetime.now(dt.UTC),
        )
    request.app.state.queue.enqueue_report(job_id)
    return RedirectResponse(f"/jobs/{job_id}", status_code=303)


@router.get("/jobs/{job_id}")
async def job_page(
    request: Request, job_id: int, actor: Actor = Depends(page_actor), session: Session = SESSION
) -> Response:
    """Where the job is; the page refreshes its status until the job has finished. An archive
    import lists what each report done so far became."""
    job = get_job(session, actor=actor, job_id=job_id)
    outcomes = job_outcomes(session, actor=actor, job_id=job_id)
    return render(
        request, "job.html", {"job": job, "outcomes": outcomes, "counts": summarise(outcomes)}
    )


@router.get("/jobs/{job_id}/download")
async def job_download(
    job_id: int, actor: Actor = Depends(page_actor), session: Session = SESSION
) -> Response:
    """The finished job's PDF."""
    report = job_result(session, actor=actor, job_id=job_id)
    return Response(
        report.content,
        media_type=report.media_type,
        headers={"Content-Disposition": f'attachment; filename="{report.filename}"'},
    )
