"""The API for notification channels, the delivery log and background report jobs (what
Settings → Notifications, Admin → Deliveries and the job page do)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from hindsight.domain.access import Actor
from hindsight.services.database import Session
from hindsight.services.notifications import (
    add_channel,
    list_channels,
    list_deliveries,
    remove_channel,
)
from hindsight.services.report_jobs import get_job, job_result, start_report_job
from hindsight.web.deps import SESSION, database
from hindsight.web.routes.api import ACTOR, ERRORS

router = APIRouter()


class ChannelCreate(BaseModel):
    kind: Literal["email", "slack", "webhook"]
    target: str = Field(max_length=500)


class ChannelRead(BaseModel):
    id: int
    kind: str
    target: str
    secret: str
    created_at: dt.datetime


class AttemptRead(BaseModel):
    at: dt.datetime
    ok: bool
    status_code: int | None
    response: str


class DeliveryRead(BaseModel):
    id: int
    username: str
    subject: str
    notification_kind: str
    kind: str
    target: str
    status: str
    attempts: list[AttemptRead]
    created_at: dt.datetime
    updated_at: dt.datetime


class DeliveryPage(BaseModel):
    items: list[DeliveryRead]
    total: int


class ReportJobCreate(BaseModel):
    template: str = Field("", max_length=80)


class JobRead(BaseModel):
    id: int
    kind: str
    incident_key: str
    state: str
    progress: int
    message: str
    created_at: dt.datetime
    updated_at: dt.datetime


@router.get("/me/channels", response_model=list[ChannelRead], responses=ERRORS)
async def channels_list(actor: Actor = ACTOR, session: Session = SESSION) -> list[ChannelRead]:
    """Your notification channels (a webhook's signing secret included)."""
    return [ChannelRead(**c.__dict__) for c in list_channels(session, actor=actor)]


@router.post("/me/channels", response_model=ChannelRead, status_code=201, responses=ERRORS)
async def channels_add(
    body: ChannelCreate, request: Request, actor: Actor = ACTOR, session: Session = SESSION
) -> ChannelRead:
    """Add a channel: an e-mail address or a webhook URL."""
    channel = add_channel(
        session,
        actor=actor,
        kind=body.kind,
        target=body.target,
        now=dt.datetime.now(dt.UTC),
        allow_private=request.app.state.settings.webhook_allow_private,
    )
    return ChannelRead(**channel.__dict__)


@router.delete("/me/channels/{channel_id}", status_code=204, responses=ERRORS)
async def channels_remove(
    channel_id: int = Path(ge=1, le=2**31 - 1), actor: Actor = ACTOR, session: Session = SESSION
) -> Response:
    """Remove one of your channels."""
    remove_channel(session, actor=actor, channel_id=channel_id)
    return Response(status_code=204)


@router.get("/deliveries", response_model=DeliveryPage, responses=ERRORS)
async def deliveries(
    status: Literal["", "pending", "sending", "sent", "failed"] = "",
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=10_000_000),
    actor: Actor = ACTOR,
    session: Session = SESSION,
) -> DeliveryPage:
    """The delivery log, newest first, with every attempt (admins only)."""
    items, total = list_deliveries(
        session, actor=actor, status=status or None, limit=limit, offset=offset
    )
    return DeliveryPage(
        items=[
            DeliveryRead(**(d.__dict__ | {"attempts": [a.__dict__ for a in d.attempts]}))
            for d in items
        ],
        total=total,
    )


@router.post(
    "/incidents/{key}/reports/pdf", response_model=JobRead, status_code=202, responses=ERRORS
)
async def report_job(
    request: Request, key: str, body: ReportJobCreate, actor: Actor = ACTOR
) -> JobRead:
    """Queue a PDF render by a worker; follow it at /jobs/{id}."""
    with database(request).transaction() as session:  # committed before the job is queued
        job_id = start_report_job(
            session,
            actor=actor,
            key=key,
            template=body.template,
            default_template=request.app.state.settings.default_template,
            now=dt.datetime.now(dt.UTC),
        )
        job = get_job(session, actor=actor, job_id=job_id)
    request.app.state.queue.enqueue_report(job_id)
    return JobRead(**job.__dict__)


@router.get("/jobs/{job_id}", response_model=JobRead, responses=ERRORS)
async def job_read(
    job_id: int = Path(ge=1, le=2**31 - 1), actor: Actor = ACTOR, session: Session = SESSION
) -> JobRead:
    """Where one of your jobs is."""
    return JobRead(**get_job(session, actor=actor, job_id=job_id).__dict__)


@router.get(
    "/jobs/{job_id}/download",
    responses=ERRORS | {200: {"content": {"application/pdf": {}}}},
    response_class=Response,
)
async def job_download(
    job_id: int = Path(ge=1, le=2**31 - 1), actor: Actor = ACTOR, session: Session = SESSION
) -> Response:
    """The finished job's PDF."""
    report = job_result(session, actor=actor, job_id=job_id)
    return Response(
        report.content,
        media_type=report.media_type,
        headers={"Content-Disposition": f'attachment; filename="{report.filename}"'},
    )
