"""One access-log line per request: method, path, status and duration, never a secret.

The line never holds headers (so no cookies and no Authorization), and the values of query
parameters whose names look secret (`token`, `password`, `key`, …) or that look like one of
Hindsight's tokens (`hs_…`, `hk_…`) are replaced by `[redacted]`.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from typing import TextIO
from urllib.parse import parse_qsl, quote, urlencode

from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger("hindsight.access")
_SECRET_NAME = re.compile(r"token|secret|pass|key|auth|session|csrf|code|sig|credential", re.I)
_SECRET_VALUE = re.compile(r"\bh[sk]_[A-Za-z0-9_-]{6,}")
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"
REDACTED = "[redacted]"


def loggable_target(path: str, query_string: bytes) -> str:
    """The path and query as they may be logged: escaped (no line breaks), secrets hidden."""
    target = quote(path, safe=_PATH_SAFE)
    if not query_string:
        return target
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    shown = [
        (name, REDACTED if _SECRET_NAME.search(name) or _SECRET_VALUE.search(value) else value)
        for name, value in pairs
    ]
    return f"{target}?{urlencode(shown, safe='[]/:,')}"


class AccessLogMiddleware:
    """ASGI middleware: logs each HTTP request at INFO on the `hindsight.access` logger."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if the application fails before answering

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            logger.info(
                "%s %s %d %.1fms",
                scope["method"],
                loggable_target(scope["path"], scope.get("query_string", b"")),
                status,
                (time.perf_counter() - started) * 1000,
            )


def send_access_log_to(stream: TextIO = sys.stderr) -> None:
    """Write the access log to `stream` (what `hindsight serve` and its workers do); once."""
    if any(getattr(h, "stream", None) is stream for h in logger.handlers):
        return
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
