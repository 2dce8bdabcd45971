"""The admins' users page: list accounts, change a role, disable (after a confirmation) or
re-enable; each change ends that account's sessions (see `services.accounts`)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from hindsight.domain.access import Actor, Role
from hindsight.errors import HindsightError
from hindsight.services.accounts import change_disabled, change_role, get_account, list_accounts
from hindsight.services.database import Session
from hindsight.web.deps import SESSION, form_fields, page_actor, render, verify_csrf

router = APIRouter()
PAGE_SIZE = 50


def _users_page(
    request: Request, session: Session, actor: Actor, page: int, **extra: object
) -> Response:
    result = list_accounts(session, actor=actor, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    pages = max(1, -(-result.total // PAGE_SIZE))
    context = {"users": result, "number": page, "pages": pages, "roles": list(Role)}
    context |= {"message": "", "error": "", **extra}
    return render(request, "users.html", context, status=422 if context["error"] else 200)


@router.get("/admin/users")
async def users_page(
    request: Request,
    page: int = Query(1, ge=1, le=100_000),
    actor: Actor = Depends(page_actor),
    session: Session = SESSION,
) -> Response:
    """Every account, a page at a time (admins only)."""
    return _users_page(request, session, actor, page)


@router.post("/admin/users/{username}/role", dependencies=[Depends(verify_csrf)])
async def users_role(
    request: Request, username: str, actor: Actor = Depends(page_actor), session: Session = SESSION
) -> Response:
    """Change an account's role; its sessions end."""
    value = (await form_fields(request)).get("role", "")
    try:
        role = Role(value)
    except ValueError:
        return _users_page(request, session, actor, 1, error=f"role: {value!r} is not a role")
    try:
        change_role(session, actor=actor, username=username, role=role)
    except HindsightError as error:
        return _users_page(request, session, actor, 1, error=str(error))
    message = f"{username} is now {role.value}; their sessions were signed out."
    return _users_page(request, session, actor, 1, message=message)


@router.get("/admin/users/{username}/disable")
async def users_disable_confirm(
    request: Request, username: str, actor: Actor = Depends(page_actor), session: Session = SESSION
) -> Response:
    """Ask before disabling: say what it ends."""
    account = get_account(session, actor=actor, username=username)
    return render(request, "user_disable.html", {"account": account})


@router.post("/admin/users/{username}/disable", dependencies=[Depends(verify_csrf)])
async def users_disable(
    request: Request, username: str, actor: Actor = Depends(page_actor), session: Session = SESSION
) -> Response:
    """Disable an account: its sessions end and its API tokens are revoked for good."""
    try:
        change_disabled(session, actor=actor, username=username, disabled=True)
    except HindsightError as error:
        return _users_page(request, session, actor, 1, error=str(error))
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{username}/enable", dependencies=[Depends(verify_csrf)])
async def users_enable(
    request: Request, username: str, actor: Actor = Depends(page_actor), session: Session = SESSION
) -> Response:
    """Re-enable an account (its old API tokens stay revoked)."""
    change_disabled(session, actor=actor, username=username, disabled=False)
    return RedirectResponse("/admin/users", status_code=303)
