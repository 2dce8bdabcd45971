"""Evidence on the postmortem page: the import dialog with its preview, the suggested events
(accept, dismiss, in bulk), key-moment proposals, and the live Alertmanager hook."""

from __future__ import annotations

import datetime as dt
import re
import secrets
import shutil
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from hindsight.analysis.evidence import (
    default_import_window,
    proposal_span_warning,
    proposed_metrics,
)
from hindsight.domain.access import Actor
from hindsight.domain.incidents import Postmortem
from hindsight.domain.timeline import KeyMoment, localize, require_aware
from hindsight.errors import HindsightError, InvalidInputError, NotFoundError
from hindsight.importers.base import ImportOptions, Source
from hindsight.importers.registry import IMPORTERS
from hindsight.services.candidates import root_cause_candidates
from hindsight.services.database import Session
from hindsight.services.evidence import (
    accept_evidence,
    apply_proposal,
    dismiss_evidence,
    evidence_proposals,
    list_evidence,
)
from hindsight.services.evidence_jobs import start_evidence_job
from hindsight.services.imports import (
    ImportSummary,
    create_hook_token,
    hook_token_prefix,
    import_evidence,
    receive_hook,
)
from hindsight.web.deps import SESSION, database, page_actor, render, verify_csrf
from hindsight.web.uploads import remove_upload, sweep_uploads

router = APIRouter(dependencies=[Depends(verify_csrf)])
hooks = APIRouter()

MAX_UPLOAD_BYTES = 1024 * 1024 * 1024
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def _uploads(request: Request) -> Path:
    folder: Path = request.app.state.upload_dir
    folder.mkdir(parents=True, exist_ok=True)
    return folder


async def _save_upload(request: Request, upload: UploadFile) -> str:
    """Copy the upload to the uploads folder in chunks; returns its token."""
    sweep_uploads(_uploads(request), request.app.state.settings.upload_lifetime_minutes * 60)
    token = secrets.token_urlsafe(18)
    # Leading dots go: a name of '..' or '.' would be the uploads folder itself.
    name = _SAFE_NAME.sub("_", Path(upload.filename or "").name).lstrip(".")[:100] or "upload"
    folder = _uploads(request) / token
    folder.mkdir()
    written = 0
    with (folder / name).open("wb") as out:
        while chunk := await upload.read(1 << 20):
            written += len(chunk)
            if written > MAX_UPLOAD_BYTES:
                out.close()
                shutil.rmtree(folder, ignore_errors=True)
                raise InvalidInputError(
                    f"{name}: larger than the 1 GB upload limit; import it "
                    "with `hindsight import-evidence` on the server"
                )
            out.write(chunk)
    if written == 0:
        shutil.rmtree(folder, ignore_errors=True)
        raise InvalidInputError(f"{name}: the uploaded file is empty")
    return token


def _upload_path(request: Request, token: str) -> Path:
    if not _TOKEN.match(token):
        raise NotFoundError("that upload is gone; choose the file again")
    folder = _uploads(request) / token
    files = sorted(folder.iterdir()) if folder.is_dir() else []
    if not files:
        raise NotFoundError("that upload is gone; choose the file again")
    return files[0]


def _time(value: str, zone: str, field: str) -> dt.datetime | None:
    if not value.strip():
        return None
    try:
        return require_aware(localize(dt.datetime.fromisoformat(value.strip()), zone), field)
    except ValueError as error:
        raise InvalidInputError(f"{field}: {error}") from None


def _options(form: dict[str, str]) -> ImportOptions:
    zone = form.get("tz", "").strip() or "UTC"
    try:
        return ImportOptions(
            since=_time(form.get("since", ""), zone, "since"),
            until=_time(form.get("until", ""), zone, "until"),
            zone=zone,
            channels=tuple(c for c in re.split(r"[,\s]+", form.get("channels", "")) if c),
        )
    except ValueError as error:
        raise InvalidInputError(str(error)) from None


def _kind(form: dict[str, str]) -> str:
    kind = form.get("kind", "")
    if kind not in IMPORTERS:
        raise InvalidInputError(f"kind: choose one of {', '.join(sorted(IMPORTERS))}")
    return kind


async def _form(request: Request) -> tuple[dict[str, str], UploadFile | None]:
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    upload = form.get("file")
    return fields, upload if isinstance(upload, UploadFile) else None


@router.post("/incidents/{key}/evidence/preview")
async def evidence_preview(
    request: Request, key: str, actor: Actor = Depends(page_actor), session: Session = SESSION
) -> Response:
    """Read the uploaded file and show what importing it would add, merge and skip; a file
    that cannot be imported gets its reason in the dialog (not an error page)."""
    try:
        return await _preview(request, key, actor, session)
    except HindsightError as error:
        return render(request, "evidence_preview.html", {"error": str(error)})


async def _preview(request: Request, key: str, actor: Actor, session: Session) -> Response:
    fields, upload = await _form(request)
    kind = _kind(fields)
    options = _options(fields)
    if upload is None or not upload.filename:
        raise InvalidInputError("file: choose the export to import")
    token = await _save_upload(request, upload)
    path = _upload_path(request, token)
    try:
        summary = await _import_off_the_loop(session, key, kind, path, options, actor, True)
    except Exception:
        shutil.rmtree(path.parent, ignore_errors=True)
        raise
    if not (summary.added or summary.merged):
        remove_upload(path)  # nothing to import: the dialog offers no import button
    context: dict[str, Any] = {
        "key": key,
        "summary": summary,
        "token": token,
        "fields": fields,
        "icons": _icons(),
        "name": upload.filename,
    }
    return render(request, "evidence_preview.html", context)


@router.post("/incidents/{key}/evidence/import")
async def evidence_import(
    request: Request, key: str, actor: Actor = Depends(page_actor), session: Session = SESSION
) -> Response:
    """Import the previewed upload as suggestions; one over settings.import_job_bytes goes
    to a worker and its job page."""
    fields, _upload = await _form(request)
    token = fields.get("upload", "")
    path = _upload_path(request, token)
    if path.stat().st_size > request.app.state.settings.import_job_bytes:
        # Its own transaction, committed before the job is queued: a worker must find it.
        with database(request).transaction() as writing:
            job_id = start_evidence_job(
                writing,
                actor=actor,
                key=key,
                kind=_kind(fields),
                path=path,
                token=token,
                options=_options(fields),
                now=dt.datetime.now(dt.UTC),
            )
        request.app.state.queue.enqueue_evidence_import(job_id)
        return RedirectResponse(f"/jobs/{job_id}", status_code=303)
    await _import_off_the_loop(
        session, key, _kind(fields), path, _options(fields), actor, preview=False
    )
    shutil.rmtree(path.parent, ignore_errors=True)
    return RedirectResponse(f"/incidents/{key}#evidence", status_code=303)


@router.post("/incidents/{key}/evidence/cancel")
async def evidence_cancel(
    request: Request, key: str, actor: Actor = Depends(page_actor)
) -> Response:
    """Forget a previewed upload without importing it."""
    fields, _upload = await _form(request)
    token = fields.get("upload", "")
    if _TOKEN.match(token):
        remove_upload(_uploads(request) / token)
    return RedirectResponse(f"/incidents/{key}#evidence", status_code=303)


async def _import_off_the_loop(
    session: Session,
    key: str,
    kind: str,
    path: Path,
    options: ImportOptions,
    actor: Actor,
    preview: bool,
) -> ImportSummary:
    """Open and import an upload on a worker thread: a 5 MB zip can take seconds to read
    (and a merge of thousands of events more), and every other request waits while the event
    loop is busy. The request's session is used by that one thread while the handler awaits
    it, never by two threads at once; the thread never needs the loop, so holding the
    connection there cannot deadlock the pool against the loop."""

    def run() -> ImportSummary:
        return import_evidence(
            session,
            key=key,
            kind=kind,
            source=Source.open(path, label=path.name),
            options=options,
            author=actor.username,
            actor=actor,
            preview=preview,
        )

    return await run_in_threadpool(run)


def _ids(form: Any) -> list[int]:
    try:
        return [int(value) for value in form.getlist("id")]
    except ValueError:
        raise InvalidInputError("id: not a number") from None


@router.post("/incidents/{key}/evidence/{decision}")
async def evidence_decide(
    request: Request,
    key: str,
    decision: str,
    actor: Actor = Depends(page_actor),
    session: Session = SESSION,
) -> Response:
    """Accept or dismiss the selected suggestions, or all of them."""
    form = await request.form()
    everything = form.get("all") == "1"
    ids = None if everything else _ids(form)
    if ids == []:
        raise InvalidInputError("select at least one suggested event")
    if decision == "accept":
        accept_evidence(session, key=key, ids=ids, author=actor.username, actor=actor)
        return RedirectResponse(f"/incidents/{key}#list-timeline", status_code=303)
    if decision == "dismiss":
        dismiss_evidence(session, key=key, ids=ids, actor=actor)
        return RedirectResponse(f"/incidents/{key}#evidence", status_code=303)
    raise NotFoundError("no such evidence action")


@router.post("/incidents/{key}/moments")
async def mark_moment(
    request: Request, key: str, actor: Actor = Depends(page_actor), session: Session = SESSION
) -> Response:
    """Mark a proposed key moment on its event (accepting the event if needed)."""
    form = await request.form()
    try:
        moment = KeyMoment(str(form.get("moment", "")))
        evidence_id = int(str(form.get("evidence", "")))
    except ValueError:
        raise InvalidInputError("choose a proposed key moment") from None
    apply_proposal(
        session, key=key, moment=moment, evidence_id=evidence_id, author=actor.username, actor=actor
    )
    return RedirectResponse(f"/incidents/{key}#list-timeline", status_code=303)


@router.post("/incidents/{key}/hook-token")
async def hook_token(
    request: Request, key: str, actor: Actor = Depends(page_actor), session: Session = SESSION
) -> Response:
    """Make a new Alertmanager hook token and show it once."""
    token = create_hook_token(session, key=key, author=actor.username, actor=actor)
    url = str(request.base_url).rstrip("/") + f"/api/v1/hooks/alertmanager/{key}"
    return render(request, "hook_token.html", {"key": key, "token": token, "url": url})


@hooks.post("/hooks/{kind}/{key}")
async def hook(request: Request, kind: str, key: str, session: Session = SESSION) -> Response:
    """A live delivery from a monitoring system (Alertmanager's webhook_config), authorised by
    the incident's hook token: `Authorization: Bearer hk_…`."""
    if kind != "alertmanager":
        raise NotFoundError("live hooks exist for alertmanager only")
    header = request.headers.get("authorization", "")
    token = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
    body = await request.body()
    summary = await run_in_threadpool(
        lambda: receive_hook(session, key=key, token=token, kind=kind, body=body)
    )
    return JSONResponse(
        {"added": len(summary.added), "merged": summary.merged, "skipped": summary.skipped}
    )


def _icons() -> dict[str, str]:
    return {kind: importer.icon for kind, importer in IMPORTERS.items()}


def evidence_context(
    session: Session, key: str, actor: Actor, postmortem: Postmortem | None = None
) -> dict[str, Any]:
    """What the postmortem page shows about evidence (`postmortem`, when the page has it)."""
    timeline = postmortem.timeline if postmortem is not None else None
    return {
        "import_window": default_import_window(timeline) if timeline is not None else None,
        "evidence": list_evidence(session, key=key, actor=actor),
        "proposals": evidence_proposals(session, key=key, actor=actor, timeline=timeline),
        "importers": IMPORTERS,
        "icons": _icons(),
        "hook_prefix": hook_token_prefix(session, key=key, actor=actor),
        "proposed_metrics": proposed_metrics,
        "proposal_span_warning": proposal_span_warning,
        "candidates": root_cause_candidates(session, key=key, actor=actor),
    }
