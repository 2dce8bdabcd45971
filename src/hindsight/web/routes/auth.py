"""Signing in and out, and the settings page (profile, password, API tokens)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from hindsight.domain.access import Actor
from hindsight.errors import HindsightError
from hindsight.services.accounts import (
    AuthenticationError,
    RateLimitedError,
    check_login_allowed,
    create_token,
    list_tokens,
    record_login_failure,
    revoke_token,
    set_password,
    update_profile,
    verify_login,
)
from hindsight.services.database import Database, Session
from hindsight.web.deps import (
    SESSION,
    csrf_token,
    database,
    form_fields,
    page_actor,
    render,
    run_heavy,
    verify_csrf,
)

router = APIRouter()


def _safe_next(target: str | None) -> str:
    """Only same-site paths: never redirect a login to another site."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/"


@router.get("/login")
async def login_form(request: Request, next: str = "/") -> Response:
    """The sign-in form."""
    return render(request, "login.html", {"next": _safe_next(next), "error": "", "username": ""})


def _check_login(db: Database, username: str, password: str, address: str) -> Actor:
    """The throttle and the password check, on a worker thread: Argon2 takes tens of
    milliseconds of CPU, which on the event loop would stall every other request."""
    with db.transaction() as session:
        check_login_allowed(session, username=username, address=address)
        return verify_login(session, username=username, password=password)


@router.post("/login", dependencies=[Depends(verify_csrf)])
async def login(request: Request) -> Response:
    """Check the credentials; failures are counted and limited per name and address."""
    form = await form_fields(request)
    username, password = form.get("username", "").strip(), form.get("password", "")
    target = _safe_next(form.get("next"))
    address = request.client.host if request.client else "unknown"
    db = database(request)
    try:
        actor = await run_heavy(_check_login, db, username, password, address)
    except RateLimitedError as error:
        context = {"next": target, "error": str(error), "username": username}
        response = render(request, "login.html", context, status=429)
        response.headers["Retry-After"] = str(error.retry_after)
        return response
    except AuthenticationError as error:
        with db.transaction() as session:  # the failure must be kept although login failed
            record_login_failure(session, username=username, address=address)
        context = {"next": target, "error": f"{error}.", "username": username}
        return render(request, "login.html", context, status=401)
    request.session.clear()  # a new session on sign-in: no fixation
    request.session["user_id"] = actor.id
    csrf_token(request)
    return RedirectResponse(target, status_code=303)


@router.post("/logout", dependencies=[Depends(verify_csrf)])
async def logout(request: Request) -> Response:
    """Sign out."""
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


def _settings(request: Request, session: Session, actor: Actor, **extra: object) -> Response:
    context = {
        "tokens": list_tokens(session, actor=actor),
        "new_token": "",
        "message": "",
        "error": "",
        **extra,
    }
    status = 422 if context["error"] else 200
    return render(request, "settings.html", context, status=status)


@router.get("/settings")
async def settings_page(
    request: Request, actor: Actor = Depends(page_actor), session: Session = SESSION
) -> Response:
    """Profile, password and API tokens."""
    return _settings(request, session, actor)


@router.post("/settings/profile", dependencies=[Depends(verify_csrf)])
async def settings_profile(
    request: Request, actor: Actor = Depends(page_actor), session: Session = SESSION
) -> Response:
    """Change display name and time zone."""
    form = await form_fields(request)
    try:
        actor = update_profile(
            session,
            actor=actor,
            display_name=form.get("display_name", ""),
            timezone=form.get("timezone", "UTC").strip() or "UTC",
        )
    except HindsightError as error:
        return _settings(request, session, actor, error=str(error))
    request.state.actor = actor
    return _settings(request, session, actor, message="Profile saved.")


@router.post("/settings/password", dependencies=[Depends(verify_csrf)])
async def settings_password(
    request: Request, actor: Actor = Depends(page_actor), session: Session = SESSION
) -> Response:
    """Change the password (the current one is required)."""
    form = await form_fields(request)
    try:
        verify_login(session, username=actor.username, password=form.get("current", ""))
    except AuthenticationError:
        return _settings(request, session, actor, error="The current password is wrong.")
    if form.get("new", "") != form.get("repeat", ""):
        return _settings(request, session, actor, error="The new passwords differ.")
    try:
        set_password(session, username=actor.username, password=form.get("new", ""))
    except HindsightError as error:
        return _settings(request, session, actor, error=str(error))
    return _settings(request, session, actor, message="Password changed.")


@router.post("/settings/tokens", dependencies=[Depends(verify_csrf)])
async def settings_token_new(
    request: Request, actor: Actor = Depends(page_actor), session: Session = SESSION
) -> Response:
    """Create an API token; it is shown once."""
    name = (await form_fields(request)).get("name", "")
    try:
        token = create_token(session, actor=actor, name=name)
    except HindsightError as error:
        return _settings(request, session, actor, error=str(error))
    return _settings(request, session, actor, new_token=token)


@router.post("/settings/tokens/{token_id}/revoke", dependencies=[Depends(verify_csrf)])
async def settings_token_revoke(
    request: Request, token_id: int, actor: Actor = Depends(page_actor), session: Session = SESSION
) -> Response:
    """Revoke an API token."""
    revoke_token(session, actor=actor, token_id=token_id)
    return _settings(request, session, actor, message="Token revoked.")
