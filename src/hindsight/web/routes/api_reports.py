"""API: an incident exported as Markdown or JSON, or its report as HTML or PDF."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from hindsight.domain.access import Actor
from hindsight.services.database import Session
from hindsight.services.reports import ReportFormat, build_report, prepare_report, report_metrics
from hindsight.web.deps import SESSION, run_heavy
from hindsight.web.routes.api_common import ACTOR, ERRORS
from hindsight.web.security import EXPORT_POLICY

router = APIRouter()


@router.get(
    "/incidents/{key}/export",
    responses={
        200: {
            "content": {
                "text/markdown": {},
                "application/json": {},
                "text/html": {},
                "application/pdf": {},
            }
        },
        **ERRORS,
    },
)
async def incidents_export(
    request: Request,
    key: str,
    format: ReportFormat = ReportFormat.MARKDOWN,
    template: str = Query("", max_length=80),
    actor: Actor = ACTOR,
    session: Session = SESSION,
) -> Response:
    """The Markdown or JSON form, or the report as standalone HTML or PDF (`template`)."""
    settings = request.app.state.settings
    postmortem, chosen = prepare_report(
        session,
        key=key,
        fmt=format,
        template=template,
        default_template=settings.default_template,
        actor=actor,
    )
    metrics = report_metrics(session, key=key, actor=actor, postmortem=postmortem)
    report = await run_heavy(
        build_report, postmortem, format, chosen, settings.resolved_templates_dir(), metrics
    )
    return Response(
        report.content,
        media_type=report.media_type,
        headers={"Content-Security-Policy": EXPORT_POLICY},
    )
