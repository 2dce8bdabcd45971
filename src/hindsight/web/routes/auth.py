"""Signing in and out, and the settings page (profile, password, sessions, API tokens)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from hindsight.domain.access import Actor
from hindsight.errors import HindsightError
from hindsight.services.accounts import (
    AuthenticationError,
    create_token,
    list_tokens,
    revoke_token,
    update_profile,
)
from hindsight.services.database import Session
from hindsight.services.logins import RateLimitedError, change_password, sign_in
from hindsight.services.sessions import (
    end_session,
    end_session_by_id,
    end_user_sessions,
    list_sessions,
)
from hindsight.web.deps import (
    SESSION,
    SESSION_KEY,
    csrf_token,
    database,
    form_fields,
    page_actor,
    render,
    session_limits,
    session_secret,
    verify_csrf,
)

router = APIRouter()
DEVICE_COOKIE = "hindsight_device"
DEVICE_AGE = 400 * 24 * 3600  # the longest browsers keep a cookie


def _address(request: Request) -> str:
    """The client's address: the peer, or what a trusted proxy (`forwarded_allow_ips`) says."""
    return request.client.host if request.client else "unknown"


def _user_agent(request: Request) -> str:
    return request.headers.get("user-agent", "")[:200]


def _safe_next(target: str | None) -> str:
    """Only same-site paths: never redirect a login to another site."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/"


@router.get("/login")
async def login_form(request: Request, next: str = "/") -> Response:
    """The sign-in form."""
    return render(request, "login.html", {"next": _safe_next(next), "error": "", "username": ""})


@router.post("/login", dependencies=[Depends(verify_csrf)])
async def login(request: Request) -> Response:
    """Check the credentials (in a worker thread, within the login limits) and start a
    session recorded in the database."""
    form = await form_fields(request)
    username, password = form.get("username", "").strip(), form.get("password", "")
    target = _safe_next(form.get("next"))
    try:
        signed = await sign_in(
            database(request),
            username=username,
            password=password,
            address=_address(request),
            user_agent=_user_agent(request),
            limits=session_limits(request),
            device=request.cookies.get(DEVICE_COOKIE),
        )
    except RateLimitedError as error:
        context = {"next": target, "error": str(error), "username": username}
        response = render(request, "login.html", context, status=429)
        response.headers["Retry-After"] = str(error.retry_after)
        return response
    except AuthenticationError as error:
        context = {"next": target, "error": f"{error}.", "username": username}
        return render(request, "login.html", context, status=401)
    request.session.clear()  # a new session on sign-in: no fixation
    request.session[SESSION_KEY] = signed.session_secret
    csrf_token(request)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        DEVICE_COOKIE,
        signed.device,
        max_age=DEVICE_AGE,
        httponly=True,
        samesite="lax",
        secure=request.app.state.settings.secure_cookies,
    )
    return response


@router.post("/logout", dependencies=[Depends(verify_csrf)])
async def logout(request: Request) -> Response:
    """Sign out: the session is deleted, so a copy of its cookie is refused too."""
    secret = session_secret(request)
    if secret is not None:
        with database(request).transaction() as session:
            end_session(session, secret=secret)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


NEW_TOKEN_KEY = "new_token"  # a token just created, until Settings has shown it


def _settings(request: Request, session: Session, actor: Actor, **extra: object) -> Response:
    context = {
        "tokens": list_tokens(session, actor=actor),
        "sessions": list_sessions(
            session,
            user_id=actor.id,
            limits=session_limits(request),
            current_secret=session_secret(request),
        ),
        "limits": session_limits(request),
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
    """Profile, password and API tokens (a token just made is shown here, once)."""
    return _settings(request, session, actor, new_token=request.session.pop(NEW_TOKEN_KEY, ""))


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
async def settings_password(request: Request, actor: Actor = Depends(page_actor)) -> Response:
    """Change the password (the current one is required): every session ends and every API
    token is revoked; this browser stays signed in with a new session."""
    form = await form_fields(request)
    error = message = ""
    if form.get("new", "") != form.get("repeat", ""):
        error = "The new passwords differ."
    else:
        try:
            changed = await change_password(
                database(request),
                actor=actor,
                current=form.get("current", ""),
                new=form.get("new", ""),
                address=_address(request),
                user_agent=_user_agent(request),
                device=request.cookies.get(DEVICE_COOKIE),
            )
        except AuthenticationError:
            error = "The current password is wrong."
        except HindsightError as problem:
            error = str(problem)
        else:
            request.session[SESSION_KEY] = changed.session_secret
            message = "Password changed. Every other session was signed out" + (
                f" and {changed.tokens_revoked} API token(s) revoked."
                if changed.tokens_revoked
                else "."
            )
    with database(request).reading() as session:
        return _settings(request, session, actor, error=error, message=message)


@router.post("/settings/sessions/{session_id}/end", dependencies=[Depends(verify_csrf)])
async def settings_session_end(
    request: Request,
    session_id: int,
    actor: Actor = Depends(page_actor),
    session: Session = SESSION,
) -> Response:
    """Sign one of your sessions out (this one included: then you are signed out here)."""
    end_session_by_id(session, user_id=actor.id, session_id=session_id)
    return RedirectResponse("/settings", status_code=303)


@router.post("/settings/sessions/end-all", dependencies=[Depends(verify_csrf)])
async def settings_sessions_end_all(
    request: Request, actor: Actor = Depends(page_actor), session: Session = SESSION
) -> Response:
    """Sign out everywhere: every session of the account ends, this one too (API tokens
    stay; revoke them below)."""
    end_user_sessions(session, user_id=actor.id)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@router.post("/settings/tokens", dependencies=[Depends(verify_csrf)])
async def settings_token_new(
    request: Request, actor: Actor = Depends(page_actor), session: Session = SESSION
) -> Response:
    """Create an API token, then redirect to Settings, which shows it once: a reload of the
    page never makes a second token (issue 9, finding 8)."""
    name = (await form_fields(request)).get("name", "")
    try:
        token = create_token(session, actor=actor, name=name)
    except HindsightError as error:
        return _settings(request, session, actor, error=str(error))
    request.session[NEW_TOKEN_KEY] = token  # this browser's own cookie, read once and dropped
    return RedirectResponse("/settings#tokens", status_code=303)


@router.post("/settings/tokens/{token_id}/revoke", dependencies=[Depends(verify_csrf)])
async def settings_token_revoke(
    request: Request, token_id: int, actor: Actor = Depends(page_actor), session: Session = SESSION
) -> Response:
    """Revoke an API token."""
    revoke_token(session, actor=actor, token_id=token_id)
    return _settings(request, session, actor, message="Token revoked.")
