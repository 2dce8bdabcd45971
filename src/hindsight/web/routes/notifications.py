"""Notification channels in Settings (each person's own), and the admins' delivery log."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from hindsight.domain.access import Actor
from hindsight.errors import HindsightError
from hindsight.services.calendar import feed_created, render_feed, revoke_feed, rotate_feed
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
NEW_FEED_KEY = "new_calendar_url"


def _channels_page(
    request: Request, session: Session, actor: Actor, *, status: int = 200, **extra: object
) -> Response:
    context = {
        "channels": list_channels(session, actor=actor),
        "kinds": CHANNEL_KINDS,
        "feed_created": feed_created(session, actor=actor),
        "new_feed": request.session.pop(NEW_FEED_KEY, ""),
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
            allow_private=request.app.state.settings.webhook_allow_private,
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


@router.post("/settings/notifications/calendar", dependencies=[Depends(verify_csrf)])
async def calendar_rotate(
    request: Request, actor: Actor = Depends(page_actor), session: Session = SESSION
) -> Response:
    """Make a new secret address for your calendar feed (the old one stops working); it is
    shown once, after the redirect, so a reload never makes another."""
    secret = rotate_feed(session, actor=actor, now=dt.datetime.now(dt.UTC))
    base = str(request.base_url).rstrip("/")
    request.session[NEW_FEED_KEY] = f"{base}/calendar/{secret}.ics"
    return RedirectResponse("/settings/notifications#calendar", status_code=303)


@router.post("/settings/notifications/calendar/revoke", dependencies=[Depends(verify_csrf)])
async def calendar_revoke(
    actor: Actor = Depends(page_actor), session: Session = SESSION
) -> Response:
    """Turn your calendar feed off."""
    revoke_feed(session, actor=actor)
    return RedirectResponse("/settings/notifications#calendar", status_code=303)


@router.get("/calendar/{secret}.ics")
async def calendar_feed(request: Request, secret: str, session: Session = SESSION) -> Response:
    """The iCalendar feed behind a secret address (no sign-in: calendar apps cannot)."""
    body = render_feed(
        session,
        secret=secret,
        base_url=request.app.state.settings.base_url,
        now=dt.datetime.now(dt.UTC),
    )
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer"},
    )
