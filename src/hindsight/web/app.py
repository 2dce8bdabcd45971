"""`create_app(settings)`: the web application — pages, in-place editing, review, the API."""

from __future__ import annotations

import gc
import sys
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from hindsight import __version__
from hindsight.config import Settings
from hindsight.errors import (
    ConflictError,
    HindsightError,
    NotFoundError,
    PermissionDeniedError,
)
from hindsight.services.accounts import ensure_first_admin, signing_secret
from hindsight.services.database import OUTAGE_ERRORS, Database, open_database
from hindsight.services.import_jobs import upload_dir
from hindsight.services.jobs import JobQueue
from hindsight.services.passwords import dummy_hash
from hindsight.web.access_log import AccessLogMiddleware, send_access_log_to
from hindsight.web.api_errors import RETRY_AFTER_OUTAGE, error_response, http_error_headers
from hindsight.web.deps import CsrfError, LoginRequiredError, render
from hindsight.web.form_errors import back_to_form, signed_out_answer, submitted_fields
from hindsight.web.limits import BodyLimitMiddleware, BodyLimits
from hindsight.web.routes import (
    action_items,
    api_notifications,
    archive,
    archive_import,
    auth,
    candidates,
    editing,
    findings,
    history,
    imports,
    incident_csv,
    insights,
    jobs,
    metrics,
    notifications,
    pages,
    reviews,
    users,
)
from hindsight.web.routes import search as search_routes
from hindsight.web.routes import similar as similar_routes
from hindsight.web.routes import trackers as tracker_routes
from hindsight.web.routes.api import create_api
from hindsight.web.security import SecurityHeadersMiddleware
from hindsight.web.slots import DatabaseSlotsMiddleware, slots_for
from hindsight.web.uploads import upload_sweeper

STATIC = Path(__file__).parent / "static"


def prepare_database(settings: Settings, database: Database) -> str | None:
    """Create the first admin if there are no accounts; returns a generated password once."""
    with database.transaction() as session:
        return ensure_first_admin(session, password=settings.admin_password)


def _status_for(error: HindsightError) -> int:
    if isinstance(error, NotFoundError):
        return 404
    if isinstance(error, PermissionDeniedError):
        return 403
    if isinstance(error, ConflictError):
        return 409
    return 400


def _outage_page(request: Request, _: Exception) -> Response:
    """The database is down: say so (503), without looking up the account, which needs it."""
    request.state.actor = None
    message = "The database is not answering. Try again in a moment."
    response = render(request, "error.html", {"status": 503, "message": message}, status=503)
    response.headers["Retry-After"] = RETRY_AFTER_OUTAGE
    return response


def _login_required(request: Request, error: Exception) -> Response:
    if request.headers.get("hx-request") == "true":
        return signed_out_answer(request, expired_form=False)
    assert isinstance(error, LoginRequiredError)
    return RedirectResponse(f"/login?next={error.next_url}", status_code=303)


def _csrf_failed(request: Request, _: Exception) -> Response:
    if request.headers.get("hx-request") == "true":
        return signed_out_answer(request, expired_form=True)
    message = (
        "This form has expired or did not come from Hindsight. Reload the page and submit again."
    )
    context = {"status": 403, "message": message, "kept": submitted_fields(request)}
    return render(request, "error.html", context, status=403)


def _hindsight_error(request: Request, error: Exception) -> Response:
    """A refused plain form goes back to its page; anything else is a page saying why."""
    assert isinstance(error, HindsightError)
    status = _status_for(error)
    if status == 400 and (back := back_to_form(request, str(error))) is not None:
        return back
    context = {"status": status, "message": str(error), "kept": submitted_fields(request)}
    return render(request, "error.html", context, status=status)


def _install_error_pages(app: FastAPI) -> None:
    """Errors become readable pages (the API answers JSON on its own)."""

    app.add_exception_handler(LoginRequiredError, _login_required)
    app.add_exception_handler(CsrfError, _csrf_failed)
    app.add_exception_handler(HindsightError, _hindsight_error)

    @app.exception_handler(StarletteHTTPException)
    def http_error(request: Request, error: StarletteHTTPException) -> Response:
        headers = http_error_headers(request, error)  # a 405 says what is allowed
        if request.url.path.startswith("/api/"):
            message = f"no API at {request.url.path}; the API is under /api/v1"
            return error_response(error.status_code, message, headers=headers)
        message = "There is no page here." if error.status_code == 404 else str(error.detail)
        response = render(
            request,
            "error.html",
            {"status": error.status_code, "message": message},
            status=error.status_code,
        )
        response.headers.update(headers)
        return response

    for kind in OUTAGE_ERRORS:
        app.add_exception_handler(kind, _outage_page)

    @app.exception_handler(RequestValidationError)
    def bad_request(request: Request, error: RequestValidationError) -> Response:
        problem = error.errors()[0]
        where = ".".join(str(part) for part in problem["loc"])
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": {"message": f"{where}: {problem['msg']}"}}, 422)
        return render(
            request,
            "error.html",
            {"status": 422, "message": f"{where}: {problem['msg']}"},
            status=422,
        )


def create_app(settings: Settings, database: Database | None = None) -> FastAPI:
    """Build the application for `settings` (the database is opened and migrated here)."""
    db = database or open_database(settings.resolved_database_url())
    generated = prepare_database(settings, db)
    if generated:
        print(
            f"Created the first account: admin / {generated}  (shown once; change it in Settings)",
            file=sys.stderr,
        )
    with db.transaction() as session:
        secret = signing_secret(session)
    dummy_hash()  # now, so that the first sign-in of an unknown name takes as long as any

    uploads = upload_dir(settings)  # the workers read archive uploads here too
    app = FastAPI(
        title="Hindsight",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=upload_sweeper(uploads, settings.upload_lifetime_minutes * 60),
    )
    app.state.database = db
    app.state.queue = JobQueue(db, settings)  # the web enqueues; `hindsight worker` runs
    app.state.upload_dir = uploads
    app.state.settings = settings
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret,
        session_cookie="hindsight_session",
        max_age=settings.session_lifetime_hours * 3600,
        same_site="lax",
        https_only=settings.secure_cookies,
    )
    app.add_middleware(BodyLimitMiddleware, limits=BodyLimits.from_settings(settings))
    if settings.forwarded_allow_ips:  # `serve` turns uvicorn's own proxy handling off
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.forwarded_allow_ips)
    # Its headers are on every answer, the limits' 413s and errors included.
    app.add_middleware(SecurityHeadersMiddleware, image_hosts=settings.allowed_image_hosts)
    # Outside the session and limits: a queued request holds nothing while it waits.
    app.add_middleware(DatabaseSlotsMiddleware, slots=slots_for(db.connection_capacity()))
    if settings.access_log:  # added last: outermost, times and logs everything
        app.add_middleware(AccessLogMiddleware)
    api = create_api()
    api.include_router(findings.api_router)
    api.include_router(search_routes.api_router)
    api.include_router(api_notifications.router)
    api.include_router(tracker_routes.api_router)
    api.state.database = db
    api.state.settings = settings
    api.state.queue = app.state.queue
    app.mount("/api/v1", api)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    routers = (auth, users, pages, editing, history, reviews, imports, archive, archive_import)
    for module in (*routers, findings, candidates, notifications, jobs):
        app.include_router(module.router)
    app.include_router(similar_routes.router)
    app.include_router(search_routes.router)
    app.include_router(metrics.router)
    for module in (action_items, insights, incident_csv):
        app.include_router(module.router)
    app.include_router(tracker_routes.router)

    @app.get("/healthz")
    def health(request: Request) -> Response:
        """200 when this process can reach its database, 503 when it cannot (a load balancer
        then sends users elsewhere)."""
        if request.app.state.database.is_up():
            return JSONResponse({"status": "ok", "database": "ok"})
        return JSONResponse(
            {"status": "unavailable", "database": "unreachable"},
            status_code=503,
            headers={"Retry-After": RETRY_AFTER_OUTAGE},
        )

    _install_error_pages(app)
    return app


def freeze_start_up_objects() -> None:
    """Move what start-up made (modules, routes, templates, table metadata: ~190,000
    objects) out of the garbage collector's full passes, as a server process is about to
    start serving: each full pass visited them all, ~60 ms every few requests, which was the
    p95 of the insights page (docs/benchmarks.md). Only for a serving process; an app made
    and dropped (the tests) keeps its objects collectable."""
    gc.collect()
    gc.freeze()


def app_from_environment() -> FastAPI:
    """Factory for `uvicorn --factory` and multi-worker serving: settings from the environment."""
    send_access_log_to(sys.stderr)
    app = create_app(Settings())
    freeze_start_up_objects()
    return app
