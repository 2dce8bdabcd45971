"""`POST /api/v1/archive-import`: the archive import (and its dry run) for scripts."""

from __future__ import annotations

import base64
import binascii

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from hindsight.domain.access import Actor
from hindsight.errors import InvalidInputError
from hindsight.services.archive_import import (
    FileOutcome,
    headings_for,
    import_archive,
    preview_archive,
    summarise,
)
from hindsight.services.archive_sources import ReportInput
from hindsight.services.database import Session
from hindsight.web.deps import SESSION
from hindsight.web.routes.api import ACTOR
from hindsight.web.routes.archive_import import LAYOUTS, require_editor

router = APIRouter()


class ArchiveReportIn(BaseModel):
    """One report: its name in the archive ('folder/file.md') and its text, or its bytes in
    base64 (a PDF)."""

    name: str = Field(min_length=1, max_length=500)
    text: str | None = None
    base64: str | None = None


class ArchiveImportIn(BaseModel):
    """Reports to import (or, with `dry_run`, to preview)."""

    reports: list[ArchiveReportIn] = Field(max_length=1000)
    dry_run: bool = False
    zone: str | None = None
    format: str = "auto"


def _input(report: ArchiveReportIn) -> ReportInput:
    if report.base64 is not None:
        try:
            return ReportInput(report.name, base64.b64decode(report.base64, validate=True))
        except (binascii.Error, ValueError):
            raise InvalidInputError(f"reports: {report.name}: base64 is not valid base64") from None
    return ReportInput(report.name, (report.text or "").encode("utf-8"))


def _json(outcome: FileOutcome) -> dict[str, object]:
    return {
        "name": outcome.name,
        "outcome": outcome.outcome,
        "key": outcome.key or None,
        "title": outcome.title or None,
        "reason": outcome.reason or None,
        "flags": [{"line": f.line, "code": f.code, "message": f.message} for f in outcome.flags],
        "lines_by_part": {part: list(lines) for part, lines in outcome.lines_by_part.items()},
    }


@router.post("/archive-import")
async def archive_import_api(
    request: Request, body: ArchiveImportIn, actor: Actor = ACTOR, session: Session = SESSION
) -> Response:
    """Create or update one draft incident per report (each whole or refused); with
    `dry_run`, say what would happen, where each report's lines go and every flag."""
    require_editor(actor)
    if body.format not in LAYOUTS:
        raise InvalidInputError(f"format: choose one of {', '.join(LAYOUTS)}")
    reports = [_input(report) for report in body.reports]
    headings = headings_for(request.app.state.settings.archive_headings)
    zone, layout = body.zone or None, body.format

    def run() -> list[FileOutcome]:
        if body.dry_run:
            return preview_archive(
                session, reports, actor=actor, zone=zone, layout=layout, headings=headings
            )
        return import_archive(
            session,
            reports,
            author=actor.username,
            actor=actor,
            zone=zone,
            layout=layout,
            headings=headings,
        )

    outcomes = await run_in_threadpool(run)
    return JSONResponse({"outcomes": [_json(o) for o in outcomes], "counts": summarise(outcomes)})
