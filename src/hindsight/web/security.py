"""Security headers on every response, in one middleware (see docs/security.md).

- Content-Security-Policy: scripts, styles, fonts and requests from this origin only (HTMX and
  the app's own files; no inline script or handler), images from here, `data:` and the hosts
  `allowed_image_hosts` names; no plugins; no framing.
- X-Frame-Options DENY (older browsers' frame-ancestors), X-Content-Type-Options nosniff,
  Referrer-Policy same-origin.
- Cache-Control no-store on everything but the static files: any page or API answer may hold a
  restricted incident (its title in the list, its body, its export), and a rule per route is a
  rule the next route forgets.

A route may set its own value of any of these (exports send a stricter policy); the middleware
only fills in what is missing.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Standalone report exports carry their stylesheet inline and run nothing.
EXPORT_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def content_security_policy(image_hosts: Sequence[str] = (), *, inline_styles: bool = False) -> str:
    """The policy for the app's pages; `inline_styles` for the API explorer, whose widgets
    insert style elements (still no inline script)."""
    images = " ".join(["'self'", "data:", *(f"https://{host}" for host in image_hosts)])
    styles = "'self' 'unsafe-inline'" if inline_styles else "'self'"
    return (
        f"default-src 'self'; script-src 'self'; style-src {styles}; img-src {images}; "
        "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    )


class SecurityHeadersMiddleware:
    """Adds the headers above to every HTTP response that does not already carry them."""

    def __init__(self, app: ASGIApp, *, image_hosts: Sequence[str] = ()) -> None:
        self.app = app
        self.headers = (
            ("content-security-policy", content_security_policy(image_hosts)),
            ("x-frame-options", "DENY"),
            ("x-content-type-options", "nosniff"),
            ("referrer-policy", "same-origin"),
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = str(scope.get("path", "")).startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers:
                    headers.setdefault(name, value)
                if not static:
                    headers.setdefault("cache-control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)
