"""The "Import archive" page: upload a folder of another team's postmortems or a .zip, see
where every report's lines would go and every flag (the dry run), then import them."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import secrets
import shutil
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from hindsight.analysis.archive import MAX_REPORT_BYTES
from hindsight.domain.access import Actor, Role
from hindsight.errors import HindsightError, InvalidInputError, PermissionDeniedError
from hindsight.services.archive_import import (
    FileOutcome,
    headings_for,
    import_archive,
    preview_archive,
    summarise,
)
from hindsight.services.archive_sources import REPORT_SUFFIXES, ReportInput
from hindsight.services.database import Session
from hindsight.services.import_jobs import (
    archive_folder,
    is_large,
    read_archive_upload,
    start_archive_job,
    upload_bytes,
)
from hindsight.web.deps import SESSION, database, page_actor, render, verify_csrf
from hindsight.web.uploads import remove_upload, sweep_uploads

router = APIRouter()
CSRF = [Depends(verify_csrf)]  # the posts; the page itself is a GET
MAX_FILES = 5000
LAYOUTS = ("auto", "markdown", "pdf")


def require_editor(actor: Actor) -> Actor:
    """`actor`, if they may import an archive (the page and the API share this rule)."""
    if actor.role is Role.VIEWER:
        raise PermissionDeniedError(
            "importing an archive creates incidents; viewers cannot, ask an admin for the "
            "editor role"
        )
    return actor


def _folder(request: Request) -> Path:
    folder: Path = request.app.state.upload_dir
    folder.mkdir(parents=True, exist_ok=True)
    sweep_uploads(folder, request.app.state.settings.upload_lifetime_minutes * 60)
    return folder


async def _save(request: Request, uploads: list[UploadFile]) -> str:
    """Keep the uploaded files (names in a manifest) for the import after the preview."""
    token = secrets.token_urlsafe(18)
    folder = _folder(request) / f"archive-{token}"
    folder.mkdir()
    manifest = []
    for index, upload in enumerate(uploads):
        name = (upload.filename or "").replace("\\", "/")
        if not name.lower().endswith((*REPORT_SUFFIXES, ".zip")):
            continue  # a folder's images, licences… are not reports
        path = folder / f"{index:05d}"
        written, refusal = 0, ""
        with path.open("wb") as out:
            while chunk := await upload.read(1 << 20):
                written += len(chunk)
                if written > MAX_REPORT_BYTES and not name.lower().endswith(".zip"):
                    refusal = f"is over {MAX_REPORT_BYTES:,} bytes; a report may be at most that"
                    break
                out.write(chunk)
        manifest.append({"name": name, "file": path.name, "refusal": refusal})
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return token


def _reports(request: Request, token: str) -> tuple[Path, list[ReportInput]]:
    return read_archive_upload(request.app.state.upload_dir, token)


def _options(fields: dict[str, str], request: Request) -> dict[str, Any]:
    layout = fields.get("format", "auto")
    if layout not in LAYOUTS:
        raise InvalidInputError(f"format: choose one of {', '.join(LAYOUTS)}")
    settings = request.app.state.settings
    return {
        "zone": fields.get("zone", "").strip() or None,
        "layout": layout,
        "headings": headings_for(settings.archive_headings),
    }


def _context(outcomes: list[FileOutcome], fields: dict[str, str], **extra: Any) -> dict[str, Any]:
    return {
        "outcomes": outcomes,
        "counts": summarise(outcomes),
        "fields": fields,
        "layouts": LAYOUTS,
        **extra,
    }


@router.get("/archive-import")
async def archive_import_page(request: Request, actor: Actor = Depends(page_actor)) -> Response:
    """The upload form."""
    require_editor(actor)
    return render(request, "archive_import.html", _context([], {}))


@router.post("/archive-import/preview", dependencies=CSRF)
async def archive_import_preview(
    request: Request, actor: Actor = Depends(page_actor), session: Session = SESSION
) -> Response:
    """Keep the upload and show the dry run; a problem is shown on the page."""
    require_editor(actor)
    form = await request.form(max_files=MAX_FILES)
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    uploads = [u for u in form.getlist("files") if isinstance(u, UploadFile) and u.filename]
    try:
        if not uploads:
            raise InvalidInputError("files: choose a folder of reports or a .zip file")
        options = _options(fields, request)
        token = await _save(request, uploads)
        folder, reports = _reports(request, token)
        if not reports:
            remove_upload(folder)
            raise InvalidInputError(
                "no reports in what was chosen (looked for .md, .markdown, .pdf and .zip files)"
            )
        outcomes = await run_in_threadpool(
            lambda: preview_archive(session, reports, actor=actor, **options)
        )
    except HindsightError as error:
        return render(request, "archive_import.html", _context([], fields, error=str(error)), 422)
    return render(
        request, "archive_import.html", _context(outcomes, fields, token=token, preview=True)
    )


@router.post("/archive-import/import", dependencies=CSRF)
async def archive_import_run(
    request: Request, actor: Actor = Depends(page_actor), session: Session = SESSION
) -> Response:
    """Import the previewed upload: one incident per report, each whole or refused. A large
    one (settings.import_job_reports / import_job_bytes) goes to a worker and its job page."""
    require_editor(actor)
    fields = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    try:
        options = _options(fields, request)
        token = fields.get("upload", "")
        folder, reports = _reports(request, token)
        settings = request.app.state.settings
        if is_large(settings, reports=len(reports), size=upload_bytes(folder)):
            # Its own transaction, committed before the job is queued: a worker must find it.
            with database(request).transaction() as writing:
                job_id = start_archive_job(
                    writing,
                    actor=actor,
                    folder=folder,
                    token=token,
                    reports=len(reports),
                    zone=options["zone"],
                    layout=options["layout"],
                    now=dt.datetime.now(dt.UTC),
                )
            request.app.state.queue.enqueue_archive_import(job_id)
            return RedirectResponse(f"/jobs/{job_id}", status_code=303)
        outcomes = await run_in_threadpool(
            lambda: import_archive(session, reports, author=actor.username, actor=actor, **options)
        )
    except HindsightError as error:
        return render(request, "archive_import.html", _context([], fields, error=str(error)), 422)
    shutil.rmtree(folder, ignore_errors=True)
    return render(request, "archive_import.html", _context(outcomes, fields, done=True))


@router.post("/archive-import/cancel", dependencies=CSRF)
async def archive_import_cancel(request: Request, actor: Actor = Depends(page_actor)) -> Response:
    """Forget a previewed upload."""
    require_editor(actor)
    fields = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    token = fields.get("upload", "")
    if token:
        with contextlib.suppress(InvalidInputError):  # not an upload's token: nothing to do
            shutil.rmtree(archive_folder(request.app.state.upload_dir, token), ignore_errors=True)
    return render(request, "archive_import.html", _context([], {}, message="Upload discarded."))
