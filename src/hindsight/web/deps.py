"""What every request needs: the database, the signed-in actor, CSRF protection, templates."""

from __future__ import annotations

import datetime as dt
import os
import secrets
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from fastapi import Depends, Request, Response
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup
from python_multipart.multipart import parse_options_header
from starlette.concurrency import run_in_threadpool

from hindsight.analysis.metrics import format_duration
from hindsight.domain.access import Actor
from hindsight.domain.timeline import resolve_zone
from hindsight.services.accounts import actor_for_session
from hindsight.services.database import Database, Session
from hindsight.services.imports import check_hook_token
from hindsight.services.prose import render_prose_batch, render_prose_html
from hindsight.services.sessions import SessionLimits, touch_session

PROSE_CONTEXT_KEY = "prose_html"
T = TypeVar("T")


@pass_context
def _markdown(context: Context, text: str | None) -> Markup:
    """A prose field as HTML: the one pre-rendered off the loop for this page (`prose_html`),
    else rendered here (small texts in fragments)."""
    ready: tuple[str, Markup] | None = context.get(PROSE_CONTEXT_KEY, {}).get(id(text))
    if ready is not None and ready[0] is text:
        return ready[1]
    request = context.get("request")
    settings = getattr(request.app.state, "settings", None) if request is not None else None
    hosts = settings.allowed_image_hosts if settings is not None else ()
    return Markup(render_prose_html(text or "", image_hosts=hosts))


TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
TEMPLATES.env.filters["markdown"] = _markdown
TEMPLATES.env.filters["duration"] = format_duration
TEMPLATES.env.filters["label"] = lambda value: str(value or "").replace("_", " ")
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SESSION_KEY = "sid"  # the session's secret in the signed cookie; the database has its hash
# Where the body-limit middleware (web/limits.py) puts its look-ahead, and how far a multipart
# form's first field may reach.
PEEK_SCOPE_KEY = "hindsight.peek_body"
MULTIPART_PEEK_BYTES = 64 * 1024
# The fields of the form being handled (see `form_fields`), and the session key under which a
# refused form's message and values wait for the page it came from (see web/form_errors.py).
FORM_SCOPE_KEY = "hindsight.form_fields"
FORM_ERROR_KEY = "form_error"


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


def session_limits(request: Request) -> SessionLimits:
    """The idle and absolute session timeouts from the settings."""
    settings = request.app.state.settings
    return SessionLimits(
        idle=dt.timedelta(minutes=settings.session_idle_minutes),
        lifetime=dt.timedelta(hours=settings.session_lifetime_hours),
    )


def session_secret(request: Request) -> str | None:
    """The secret of the browser's session, if its cookie carries one."""
    secret = request.session.get(SESSION_KEY)
    return secret if isinstance(secret, str) else None


def optional_actor(request: Request) -> Actor | None:
    """The signed-in account, if any (cached on the request). The session must still exist in
    the database: signing out, a password or role change and disabling delete it."""
    if hasattr(request.state, "actor"):
        cached: Actor | None = request.state.actor
        return cached
    actor = None
    secret = session_secret(request)
    if secret is not None:
        with database(request).reading() as session:
            actor, stale = actor_for_session(session, secret=secret, limits=session_limits(request))
        if stale:
            with database(request).transaction() as session:
                touch_session(session, secret=secret)
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


def bearer_token(request: Request) -> str:
    """The `Authorization: Bearer …` credential, or ''."""
    header = request.headers.get("authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else ""


async def verify_hook_token(request: Request, key: str) -> None:
    """Refuse a webhook delivery without the incident's hook token before its body is read."""
    with database(request).reading() as session:
        check_hook_token(session, key=key, token=bearer_token(request))


def csrf_token(request: Request) -> str:
    """The session's CSRF token (made on first use)."""
    token = request.session.get(CSRF_FIELD)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session[CSRF_FIELD] = token
    return token


async def verify_csrf(request: Request) -> None:
    """Refuse a form post whose token (field or X-CSRF-Token header) is not the session's.
    A multipart body is not parsed for it: its first part must be the token (as our forms
    put it), read from the start of the stream before anything is spooled."""
    expected = request.session.get(CSRF_FIELD)
    if not isinstance(expected, str):
        raise CsrfError
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith("multipart/"):
        sent = await _first_multipart_field(request, CSRF_FIELD)
    elif sent is None:
        form = await request.form()
        request.scope[FORM_SCOPE_KEY] = {name: str(value) for name, value in form.items()}
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if sent is None or not secrets.compare_digest(sent.encode(), expected.encode()):
        raise CsrfError


async def _first_multipart_field(request: Request, name: str) -> str | None:
    """The value of the body's first part if it is the text field `name` (else None)."""
    peek = request.scope.get(PEEK_SCOPE_KEY)
    _, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if peek is None or not boundary:
        return None
    delimiter = b"--" + boundary
    head = b""
    while b"\r\n" + delimiter not in head and len(head) < MULTIPART_PEEK_BYTES:
        more: bytes = await peek(len(head) + 1)  # only as much as the first part needs
        if len(more) == len(head):
            break
        head = more
    if not head.startswith(delimiter + b"\r\n"):
        return None
    headers, found, rest = head[len(delimiter) + 2 :].partition(b"\r\n\r\n")
    value, ended, _ = rest.partition(b"\r\n" + delimiter)
    if not (found and ended):
        return None
    for line in headers.split(b"\r\n"):
        field, _, header_value = line.partition(b":")
        if field.strip().lower() == b"content-disposition":
            disposition, params = parse_options_header(header_value.strip())
            if disposition == b"form-data" and params.get(b"name") == name.encode():
                return value.decode("utf-8", "replace")
    return None


async def form_fields(request: Request) -> dict[str, str]:
    """The submitted form as text fields (file uploads are not used by any form). They are kept
    on the request so that, if the handler refuses them, the error page can give them back."""
    fields = {name: str(value) for name, value in (await request.form()).items()}
    request.scope[FORM_SCOPE_KEY] = fields
    return fields


HEAVY_WORK_NICENESS = 10


def _lower_thread_priority() -> None:
    """Make this worker thread yield the CPU to the event loop (Linux: niceness is per
    thread). Elsewhere, or if not permitted, nothing changes."""
    try:
        thread = threading.get_native_id()
        if os.getpriority(os.PRIO_PROCESS, thread) < HEAVY_WORK_NICENESS:
            os.setpriority(os.PRIO_PROCESS, thread, HEAVY_WORK_NICENESS)
    except (AttributeError, OSError):
        pass


def _at_low_priority(func: Callable[..., T], *args: Any) -> T:
    _lower_thread_priority()
    return func(*args)


async def run_heavy(func: Callable[..., T], *args: Any) -> T:
    """Run CPU-heavy work (password hashing, Markdown, reports) on a worker thread at a lower
    CPU priority: on a busy machine the event loop, and so every other request, goes first."""
    return await run_in_threadpool(_at_low_priority, func, *args)


async def prose_html(
    texts: list[str], image_hosts: Sequence[str] = ()
) -> dict[int, tuple[str, Markup]]:
    """Render prose fields on a worker thread for a page's `prose_html` context entry."""
    rendered = await run_in_threadpool(render_prose_batch, texts, image_hosts)
    return {id(text): (text, Markup(html)) for text, html in zip(texts, rendered, strict=True)}


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
        "form_error": request.session.pop(FORM_ERROR_KEY, None) or {},
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
