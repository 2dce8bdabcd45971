"""Notification channels in Settings (each person's own), and the admins' delivery log."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from hindsight.domain.access import Actor
from hindsight.errors import HindsightError
from hindsight.services.database import Session
from hindsight.services.notifications import (
    CHANNEL_KINDS,
    add_channel,
    list_channels,
    list_deliveries,
    remove_channel,
)
from hindsight.web.deps import SESSION, form_fields, page_actor, render, verify_csrf

router = APIRouter()
PAGE_SIZE = 50
STATUSES = ("pending", "sending", "sent", "failed")


def _channels_page(
    request: Request, session: Session, actor: Actor, *, status: int = 200, **extra: object
) -> Response:
    context = {
        "channels": list_channels(session, actor=actor),
        "kinds": CHANNEL_KINDS,
        "message": "",
        "error": "",
        "form": {},
        **extra,
    }
    return render(request, "notifications.html", context, status=status)


@router.get("/settings/notifications")
async def notifications_page(
    request: Request, actor: Actor = Depends(page_actor), session: Session = SESSION
) -> Response:
    """Where your reminders and digests go."""
    added = request.query_params.get("added", "")
    message = "Channel added." if added else ""
    return _channels_page(request, session, actor, message=message)


@router.post("/settings/notifications/channels", dependencies=[Depends(verify_csrf)])
async def notifications_add(
    request: Request, actor: Actor = Depends(page_actor), session: Session = SESSION
) -> Response:
    """Add a channel (an e-mail address or a webhook URL)."""
    form = await form_fields(request)
    try:
        add_channel(
            session,
            actor=actor,
            kind=form.get("kind", ""),
            target=form.get("target", ""),
            now=dt.datetime.now(dt.UTC),
        )
    except HindsightError as error:
        return _channels_page(request, session, actor, status=422, error=str(error), form=form)
    return RedirectResponse("/settings/notifications?added=1", status_code=303)


@router.post(
    "/settings/notifications/channels/{channel_id}/remove", dependencies=[Depends(verify_csrf)]
)
async def notifications_remove(
    channel_id: int, actor: Actor = Depends(page_actor), session: Session = SESSION
) -> Response:
    """Remove one of your channels; what was sent over it stays in the log."""
    remove_channel(session, actor=actor, channel_id=channel_id)
    return RedirectResponse("/settings/notifications", status_code=303)


@router.get("/admin/deliveries")
async def deliveries_page(
    request: Request,
    status: str = Query("", pattern="^(|pending|sending|sent|failed)$"),
    page: int = Query(1, ge=1, le=100_000),
    actor: Actor = Depends(page_actor),
    session: Session = SESSION,
) -> Response:
    """Every delivery, newest first, with each attempt and the answer (admins only)."""
    items, total = list_deliveries(
        session,
        actor=actor,
        status=status or None,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    pages = max(1, -(-total // PAGE_SIZE))
    context = {
        "deliveries": items,
        "total": total,
        "status": status,
        "statuses": STATUSES,
        "number": page,
        "pages": pages,
    }
    return render(request, "deliveries.html", context)
