"""A refused form comes back to its page with the message beside it and what was typed kept.

One mechanism for every plain (non-HTMX) form: a form names itself with a hidden `_form` field
(the id of its element on the page). When its handler refuses the input (a 400), the message and
the submitted values wait in the session and the browser is sent back to the page it came from,
at that form; the page's `form_error` context puts them back (see `_macros.html`). Values too
long for the session cookie are not dropped: the error page shows them to copy instead.

HTMX requests (the in-place edit forms) cannot be sent anywhere without losing the form, so a
signed-out or expired session answers with a message for the page's script to show in the form,
and, when the browser holds a newer session, that session's CSRF token so the script can send
the same form again (see static/hindsight.js).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from hindsight.web.deps import (
    CSRF_FIELD,
    FORM_ERROR_KEY,
    FORM_SCOPE_KEY,
    csrf_token,
    optional_actor,
)

FORM_NAME_FIELD = "_form"
# The session lives in a signed cookie (about 4 KB at most): longer input goes to the error page.
KEPT_VALUES_LIMIT = 2000
MESSAGE_HEADER = "X-Hindsight-Message"
CSRF_REFRESH_HEADER = "X-CSRF-Refresh"


def submitted_fields(request: Request) -> dict[str, str]:
    """What the refused form sent (without its CSRF token), if the handler had read it."""
    fields = request.scope.get(FORM_SCOPE_KEY) or {}
    return {k: v for k, v in fields.items() if k not in (CSRF_FIELD, FORM_NAME_FIELD)}


def _same_site_referer(request: Request) -> str | None:
    referer = request.headers.get("referer", "")
    parts = urlsplit(referer)
    if not referer or parts.netloc != request.url.netloc or not parts.path.startswith("/"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def back_to_form(request: Request, message: str) -> Response | None:
    """Send a refused plain form back to its page, or None when that cannot keep its input."""
    if request.method != "POST" or request.headers.get("hx-request") == "true":
        return None
    form_id = (request.scope.get(FORM_SCOPE_KEY) or {}).get(FORM_NAME_FIELD, "")
    back = _same_site_referer(request)
    values = submitted_fields(request)
    if not form_id or back is None or sum(map(len, values.values())) > KEPT_VALUES_LIMIT:
        return None
    request.session[FORM_ERROR_KEY] = {"form": form_id, "message": message, "values": values}
    return RedirectResponse(f"{back}#{form_id}", status_code=303)


def signed_out_answer(request: Request, *, expired_form: bool) -> Response:
    """For an HTMX form whose session is gone or changed: a 403 the page's script explains."""
    if optional_actor(request) is None:
        message = (
            "You are signed out (perhaps in another tab), so this was not saved. Your changes "
            "are still here: sign in from another tab, then press Save again."
        )
        headers = {MESSAGE_HEADER: message}
    else:
        message = "Your sign-in changed since this page was loaded; sending it again."
        headers = {MESSAGE_HEADER: message}
        if expired_form:
            headers[CSRF_REFRESH_HEADER] = csrf_token(request)
    return Response(message, status_code=403, headers=headers, media_type="text/plain")
