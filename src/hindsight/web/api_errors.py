"""Every error the JSON API answers, in the one documented shape (docs/api.md):
{"error": {"message": ..., "field": ..., "current_version": ...}}, whatever raised it: our own
errors, validation, unknown paths and methods, a database outage, a bug."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from hindsight.domain.codec import InvalidPostmortemError
from hindsight.domain.editing import FieldPathError
from hindsight.errors import ConflictError, HindsightError, NotFoundError, PermissionDeniedError
from hindsight.services.accounts import AuthenticationError
from hindsight.services.database import OUTAGE_ERRORS, OUTAGE_MESSAGE
from hindsight.services.logins import RateLimitedError
from hindsight.web.schemas import ConflictRead, ErrorBody, ErrorDetail

LOG = logging.getLogger("hindsight.web")
_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
RETRY_AFTER_OUTAGE = "5"


class ApiUnauthorizedError(Exception):
    """No valid token or session."""


def error_response(
    status: int,
    message: str,
    field: str | None = None,
    current_version: int | None = None,
    headers: dict[str, str] | None = None,
    conflicts: list[ConflictRead] | None = None,
) -> JSONResponse:
    """An error in the documented shape."""
    detail = ErrorDetail(
        message=message, field=field, current_version=current_version, conflicts=conflicts
    )
    return JSONResponse(
        ErrorBody(error=detail).model_dump(exclude_none=True), status_code=status, headers=headers
    )


def allowed_methods(request: Request) -> str:
    """Every method some route of this app answers at the request's path (Starlette's own
    Allow header names only the first route that matched, and FastAPI makes one per method)."""
    methods = {
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL
            for route in request.app.router.routes
        )
    }
    return ", ".join(sorted(methods))


def http_error_headers(request: Request, error: StarletteHTTPException) -> dict[str, str]:
    """The error's headers, with a complete Allow header on a 405."""
    headers = dict(error.headers or {})
    if error.status_code == 405:
        headers["Allow"] = allowed_methods(request) or headers.get("Allow", "")
    return headers


def _http_message(request: Request, error: StarletteHTTPException) -> str:
    if error.status_code == 404:
        return f"no API endpoint at {request.url.path}; the endpoints are in /api/v1/openapi.json"
    if error.status_code == 405:
        allowed = allowed_methods(request)
        return f"{request.method} is not allowed here; use {allowed or 'another method'}"
    return str(error.detail)


def domain_error(_: Request, error: HindsightError) -> JSONResponse:
    """Our own errors: the status says which kind."""
    if isinstance(error, ConflictError):
        conflicts = [
            ConflictRead(field=f, label=label, mine=mine, theirs=theirs)
            for f, label, mine, theirs in error.conflicts
        ]
        return error_response(
            409,
            str(error),
            current_version=error.current_version or None,
            conflicts=conflicts or None,
        )
    if isinstance(error, NotFoundError):
        return error_response(404, str(error))
    if isinstance(error, PermissionDeniedError):
        return error_response(403, str(error))
    if isinstance(error, RateLimitedError):
        return error_response(429, str(error), headers={"Retry-After": str(error.retry_after)})
    if isinstance(error, AuthenticationError):
        return error_response(401, str(error))
    field = str(error).split(":", 1)[0] if isinstance(error, FieldPathError) else None
    return error_response(400, str(error), field=field)


def install_api_errors(api: FastAPI) -> None:
    """Answer every error of `api` in the documented JSON shape."""

    @api.exception_handler(ApiUnauthorizedError)
    def unauthorized(_: Request, __: ApiUnauthorizedError) -> JSONResponse:
        return error_response(
            401,
            "send a valid API token: 'Authorization: Bearer hs_…' (create one "
            "in Settings or with POST /api/v1/tokens)",
            headers={"WWW-Authenticate": "Bearer"},
        )

    @api.exception_handler(InvalidPostmortemError)
    def invalid(_: Request, error: InvalidPostmortemError) -> JSONResponse:
        first = error.problems[0]
        return error_response(422, str(error), field=first.field)

    @api.exception_handler(RequestValidationError)
    def malformed(_: Request, error: RequestValidationError) -> JSONResponse:
        problem = error.errors()[0]
        field = ".".join(str(part) for part in problem["loc"] if part != "body")
        return error_response(422, f"{field}: {problem['msg']}", field=field)

    api.add_exception_handler(HindsightError, domain_error)  # type: ignore[arg-type]

    @api.exception_handler(StarletteHTTPException)
    def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        # Unknown paths (404) and methods (405, with the Allow header kept).
        message = _http_message(request, error)
        headers = http_error_headers(request, error)
        return error_response(error.status_code, message, headers=headers)

    def outage(_: Request, error: Exception) -> JSONResponse:
        LOG.warning("database unavailable: %s", error)
        return error_response(503, OUTAGE_MESSAGE, headers={"Retry-After": RETRY_AFTER_OUTAGE})

    for kind in OUTAGE_ERRORS:
        api.add_exception_handler(kind, outage)

    @api.exception_handler(Exception)
    def server_error(_: Request, __: Exception) -> JSONResponse:
        # Starlette logs the traceback after this answer is sent.
        return error_response(500, "the server failed on this request; the error is logged")
