"""Tracker export from the postmortem page and the API, and the trackers' webhooks that keep
an exported item's status in step (docs/trackers.md)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field

from hindsight.domain.access import Actor
from hindsight.errors import HindsightError, NotFoundError, PermissionDeniedError
from hindsight.services.action_items import ItemRef
from hindsight.services.database import Session
from hindsight.services.trackers import (
    Exported,
    TrackerError,
    apply_webhook,
    export_action_items,
)
from hindsight.web.api_errors import error_response
from hindsight.web.deps import SESSION, page_actor, render, verify_csrf
from hindsight.web.routes.api import ACTOR, ERRORS

router = APIRouter()
api_router = APIRouter()
Tracker = Literal["github", "jira"]


class ItemKey(BaseModel):
    key: str = Field(max_length=200)
    item_id: str = Field(max_length=40)


class ExportRequest(BaseModel):
    tracker: Tracker


class BulkExportRequest(BaseModel):
    tracker: Tracker
    items: list[ItemKey] = Field(max_length=100)


class ExportedRead(BaseModel):
    key: str
    item_id: str
    tracker_url: str


class WebhookRead(BaseModel):
    status: str
    items: list[ItemKey]


def status_of(problem: HindsightError) -> int:
    """The HTTP status a page answers a failed export with."""
    for kind, code in ((NotFoundError, 404), (PermissionDeniedError, 403), (TrackerError, 502)):
        if isinstance(problem, kind):
            return code
    return 400


@router.post("/incidents/{key}/actions/{item_id}/export", dependencies=[Depends(verify_csrf)])
async def export_item_page(
    request: Request,
    key: str,
    item_id: str,
    actor: Actor = Depends(page_actor),
    session: Session = SESSION,
) -> Response:
    """The postmortem page's "Create issue" button: export one item, then back to it."""
    form = await request.form()
    try:
        export_action_items(
            session,
            settings=request.app.state.settings,
            items=[ItemRef(key, item_id)],
            tracker=str(form.get("tracker", "")),
            actor=actor,
            author=actor.username,
        )
    except HindsightError as problem:
        code = status_of(problem)
        return render(request, "error.html", {"status": code, "message": str(problem)}, code)
    return RedirectResponse(f"/incidents/{key}#{item_id}", status_code=303)


def _exported(
    session: Session, request: Request, refs: list[ItemRef], tracker: str, actor: Actor
) -> Response:
    try:
        done = export_action_items(
            session,
            settings=request.app.state.settings,
            items=refs,
            tracker=tracker,
            actor=actor,
            author=actor.username,
        )
    except TrackerError as problem:
        # Answered rather than raised, so the links of the items exported before the tracker
        # failed are committed and a retry does not create their issues again.
        done_before = "; ".join(f"{d.key} {d.item_id} -> {d.tracker_url}" for d in problem.exported)
        extra = f" (exported before it failed: {done_before})" if done_before else ""
        return error_response(502, f"{problem}{extra}")
    return Response(
        "[" + ",".join(_read(d).model_dump_json() for d in done) + "]",
        status_code=201,
        media_type="application/json",
    )


def _read(done: Exported) -> ExportedRead:
    return ExportedRead(key=done.key, item_id=done.item_id, tracker_url=done.tracker_url)


@api_router.post(
    "/incidents/{key}/action-items/{item_id}/export",
    response_model=list[ExportedRead],
    status_code=201,
    responses=ERRORS,
)
async def export_item_api(
    request: Request,
    body: ExportRequest,
    key: str = Path(max_length=200),
    item_id: str = Path(max_length=40),
    actor: Actor = ACTOR,
    session: Session = SESSION,
) -> Response:
    """Create a GitHub or Jira issue for one action item and store its link."""
    return _exported(session, request, [ItemRef(key, item_id)], body.tracker, actor)


@api_router.post(
    "/action-items/export",
    response_model=list[ExportedRead],
    status_code=201,
    responses=ERRORS,
)
async def export_items_api(
    request: Request, body: BulkExportRequest, actor: Actor = ACTOR, session: Session = SESSION
) -> Response:
    """Create one issue per listed action item (at most 100) and store the links."""
    refs = [ItemRef(i.key, i.item_id) for i in body.items]
    return _exported(session, request, refs, body.tracker, actor)


@api_router.post("/trackers/{tracker}/webhook", response_model=WebhookRead, responses=ERRORS)
async def tracker_webhook(
    request: Request, tracker: Tracker, session: Session = SESSION
) -> Response:
    """GitHub's `issues` webhook (X-Hub-Signature-256) or Jira's issue-updated webhook
    (X-Hub-Signature): a close marks the exported item done, a reopen opens it."""
    header = "x-hub-signature-256" if tracker == "github" else "x-hub-signature"
    result = apply_webhook(
        session,
        settings=request.app.state.settings,
        tracker=tracker,
        event=request.headers.get("x-github-event", ""),
        body=await request.body(),
        signature=request.headers.get(header, ""),
    )
    read = WebhookRead(
        status=result.status, items=[ItemKey(key=k, item_id=i) for k, i in result.items]
    )
    return Response(read.model_dump_json(), media_type="application/json")
