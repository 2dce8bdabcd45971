"""What every request needs: the database, the signed-in actor, CSRF protection, templates."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Depends, Request, Response
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from markupsafe import Markup

from hindsight.analysis.metrics import format_duration
from hindsight.domain.access import Actor
from hindsight.domain.timeline import resolve_zone
from hindsight.services.accounts import get_actor
from hindsight.services.database import Database, Session
from hindsight.services.documents import render_prose_html

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")


@pass_context
def _markdown(context: Mapping[str, Any], text: str | None) -> Markup:
    """Prose as HTML; images from the hosts the settings allow (the app's own always)."""
    request = context.get("request")
    settings = getattr(request.app.state, "settings", None) if request is not None else None
    hosts = settings.allowed_image_hosts if settings is not None else ()
    return Markup(render_prose_html(text or "", image_hosts=hosts))


TEMPLATES.env.filters["markdown"] = _markdown
TEMPLATES.env.filters["duration"] = format_duration
TEMPLATES.env.filters["label"] = lambda value: str(value or "").replace("_", " ")
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


class LoginRequiredError(Exception):
    """Raised by pages that need a signed-in account; answered with a redirect to /login."""

    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


class CsrfError(Exception):
    """A state-changing request without the session's CSRF token."""


def database(request: Request) -> Database:
    """The application's database."""
    db: Database = request.app.state.database
    return db


async def transaction(request: Request) -> AsyncIterator[Session]:
    """One transaction per request: committed when the handler returns, rolled back on error.
    GET requests read only, so they never wait for writers."""
    db = database(request)
    begin = db.reading if request.method in ("GET", "HEAD") else db.transaction
    with begin() as session:
        yield session


def optional_actor(request: Request) -> Actor | None:
    """The signed-in account, if any (cached on the request)."""
    if hasattr(request.state, "actor"):
        cached: Actor | None = request.state.actor
        return cached
    actor = None
    user_id = request.session.get("user_id")
    if isinstance(user_id, int):
        with database(request).reading() as session:
            actor = get_actor(session, user_id=user_id)
        if actor is None:
            request.session.clear()
    request.state.actor = actor
    return actor


async def page_actor(request: Request) -> Actor:
    """The signed-in account, or a redirect to the login page that comes back here."""
    actor = optional_actor(request)
    if actor is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequiredError(target)
    return actor


def csrf_token(request: Request) -> str:
    """The session's CSRF token (made on first use)."""
    token = request.session.get(CSRF_FIELD)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session[CSRF_FIELD] = token
    return token


async def verify_csrf(request: Request) -> None:
    """Refuse a form post whose token (field or X-CSRF-Token header) is not the session's."""
    expected = request.session.get(CSRF_FIELD)
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not isinstance(expected, str) or sent is None or not secrets.compare_digest(sent, expected):
        raise CsrfError


async def form_fields(request: Request) -> dict[str, str]:
    """The submitted form as text fields (file uploads are not used by any form)."""
    return {name: str(value) for name, value in (await request.form()).items()}


def render(request: Request, template: str, context: dict[str, Any], status: int = 200) -> Response:
    """Render a template with what every page needs (actor, CSRF token, time helpers)."""
    actor = optional_actor(request)
    zone = actor.timezone if actor else "UTC"

    def local(value: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        return value.astimezone(resolve_zone(zone)).strftime(fmt) if value else "—"

    base = {
        "actor": actor,
        "csrf": csrf_token(request),
        "zone": zone,
        "local": local,
        "is_htmx": request.headers.get("hx-request") == "true",
        "login_url": "/login?next=" + quote(request.url.path),
    }
    response: Response = TEMPLATES.TemplateResponse(
        request, template, {**base, **context}, status_code=status
    )
    return response


# The transaction ends (commits or rolls back) when the handler returns, before the response
# is sent, so a client that follows a redirect always sees what was saved.
# Handlers and these dependencies are `async` although the database calls are synchronous: a
# request's work is a few milliseconds of CPU, and running it on the event loop avoids a
# thread-pool hop per dependency, which under load queued every hop for the GIL (bench/web).
# Everything touching a connection runs on the loop thread, so the pool is never waited on
# by the loop for a connection held by a thread that needs the loop.
SESSION = Depends(transaction, scope="function")
