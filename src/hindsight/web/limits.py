"""Request body limits per route, enforced while the body streams in.

A pure ASGI middleware, outside every handler, dependency and form parser: a declared
`Content-Length` past the route's limit is answered 413 before a byte is read, and a body
without one (chunked) is counted as it arrives and refused as soon as the count passes the
limit, so no route reads, buffers or spools more than its limit. The 413 closes the connection:
the server reads nothing more from a client that keeps sending.

The middleware also lets a dependency look at the start of the body and put it back
(`peek_body`), so that a multipart upload's CSRF field is checked before the form is parsed.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from html import escape

from starlette.datastructures import Headers
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hindsight.config import Settings
from hindsight.web.deps import PEEK_SCOPE_KEY, TEMPLATES
from hindsight.web.routes.imports import MAX_UPLOAD_BYTES

_UPLOAD_PATH = re.compile(r"^/(?:incidents/[^/]+/evidence|archive-import)/preview/?$")

PeekBody = Callable[[int], Awaitable[bytes]]


class BodyTooLargeError(Exception):
    """The request body passed its route's limit (raised inside `receive`)."""


def size_text(size: int) -> str:
    """A limit for people: '1 MiB', '1 GiB', '512 KiB'."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:.3g} {unit}"
    return f"{size} bytes"


@dataclass(frozen=True)
class BodyLimits:
    """The largest body each kind of route accepts, in bytes."""

    form: int
    json: int
    hook: int
    upload: int

    @classmethod
    def from_settings(cls, settings: Settings) -> BodyLimits:
        """The limits configured in `settings`; an upload (file and fields) is bounded by the
        upload limit, so a file past it is refused before it is spooled or copied."""
        return cls(
            form=settings.max_form_bytes,
            json=settings.max_json_bytes,
            hook=settings.max_hook_bytes,
            upload=MAX_UPLOAD_BYTES,
        )

    def for_path(self, path: str) -> tuple[int, str]:
        """The limit for a request path, and what it is called in the refusal."""
        if path.startswith("/api/v1/hooks/"):
            return self.hook, "a webhook delivery"
        if path.startswith("/api/"):
            return self.json, "an API request"
        if _UPLOAD_PATH.match(path):
            return self.upload, "an evidence upload"
        return self.form, "a form"


def _refusal(scope: Scope, limit: int, what: str) -> Response:
    """413 in the API's JSON error shape, as an HTMX fragment, or as a page."""
    message = f"The request is larger than the {size_text(limit)} limit for {what}."
    if what == "an evidence upload":
        message += " Import a file this large with `hindsight import-evidence` on the server."
    headers = {"Connection": "close"}
    if str(scope.get("path", "")).startswith("/api/"):
        return JSONResponse({"error": {"message": message}}, 413, headers=headers)
    if Headers(scope=scope).get("hx-request") == "true":
        fragment = f'<p class="error" role="alert">{escape(message)}</p>'
        return HTMLResponse(fragment, 413, headers=headers)
    page = TEMPLATES.get_template("error.html").render(
        status=413, message=message, actor=None, csrf="", zone="UTC"
    )
    return HTMLResponse(page, 413, headers=headers)


class _BodyGuard:
    """Wraps one request's `receive` and `send`: counts body bytes, replays peeked ones, and
    drops whatever the app tries to send after the body was refused."""

    def __init__(self, receive: Receive, send: Send, limit: int) -> None:
        self._receive = receive
        self._send = send
        self.limit = limit
        self.received = 0
        self.overflowed = False
        self.started = False
        self.complete = False
        self._peeked: list[Message] = []

    async def _next(self) -> Message:
        message = await self._receive()
        if message["type"] == "http.request":
            self.complete = not message.get("more_body", False)
            self.received += len(message.get("body", b""))
            if self.received > self.limit:
                self.overflowed = True
                raise BodyTooLargeError
        return message

    async def receive(self) -> Message:
        if self._peeked:
            return self._peeked.pop(0)
        return await self._next()

    async def peek(self, size: int) -> bytes:
        """The start of the body, at least `size` bytes unless it is shorter: every byte read
        so far, all left in place for the app."""
        data = b"".join(m.get("body", b"") for m in self._peeked)
        while len(data) < size and (not self._peeked or self._peeked[-1].get("more_body")):
            message = await self._next()
            self._peeked.append(message)
            if message["type"] != "http.request":
                break
            data += message.get("body", b"")
        return data

    async def send(self, message: Message) -> None:
        if self.overflowed:
            return  # the app's answer to a body it never got whole (often a 400 or 500)
        if message["type"] == "http.response.start":
            self.started = True
            if not self.complete:  # answered before the body was read (a refused token):
                headers = [*message.get("headers", []), (b"connection", b"close")]
                message = {**message, "headers": headers}  # read none of the rest
        await self._send(message)


class BodyLimitMiddleware:
    """Refuse request bodies past their route's limit with 413, while they stream in."""

    def __init__(self, app: ASGIApp, limits: BodyLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, what = self.limits.for_path(scope["path"])
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await _refusal(scope, limit, what)(scope, receive, send)
            return
        guard = _BodyGuard(receive, send, limit)
        guard.complete = declared == "0" or (
            not declared and "transfer-encoding" not in Headers(scope=scope)
        )
        scope[PEEK_SCOPE_KEY] = guard.peek
        with contextlib.suppress(BodyTooLargeError):  # the answer is ours, just below
            await self.app(scope, guard.receive, guard.send)
        if guard.overflowed and not guard.started:
            await _refusal(scope, limit, what)(scope, receive, send)
