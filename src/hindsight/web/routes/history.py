"""The history page in domain words, and undo from it: restore a removed item, revert a
revision. Both answer with a redirect, so a reload never repeats them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from hindsight.analysis.diff import split_item_path
from hindsight.domain.access import Actor
from hindsight.errors import HindsightError, NotFoundError
from hindsight.rendering.history import NOUNS, describe_changes
from hindsight.services.database import Session
from hindsight.services.history import restore_item, revert_revision
from hindsight.services.incidents import get_postmortem, list_revisions
from hindsight.web.deps import SESSION, form_fields, page_actor, render, verify_csrf

router = APIRouter()
PAGE_SIZE = 50


@router.get("/incidents/{key}/history")
async def history_page(
    request: Request,
    key: str,
    page: str = "1",
    actor: Actor = Depends(page_actor),
    session: Session = SESSION,
) -> Response:
    """Every revision, newest first, one line per changed item or field; 50 a page."""
    stored = get_postmortem(session, key=key, actor=actor)
    revisions = list(reversed(list_revisions(session, key=key, actor=actor)))
    pages = max(1, -(-len(revisions) // PAGE_SIZE))
    number = int(page) if page.isdigit() and 1 <= int(page) <= pages else 1
    shown = revisions[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]
    entries = [(revision, describe_changes(revision.changes)) for revision in shown]
    return render(
        request,
        "history.html",
        {
            "pm": stored.postmortem,
            "entries": entries,
            "page": number,
            "pages": pages,
            "message": request.query_params.get("message", ""),
            "can_edit": actor.role.value != "viewer",
        },
    )


def _back(key: str, message: str = "", to_history: bool = False) -> RedirectResponse:
    target = f"/incidents/{key}/history" if to_history else f"/incidents/{key}"
    if message:
        from urllib.parse import quote

        target += f"?message={quote(message)}"
    return RedirectResponse(target, status_code=303)


def _attempt(session: Session, undo: Callable[[], object]) -> str:
    """Run one undo in a savepoint; '' when it was done, else why it was refused (a missing
    incident or revision still answers 404)."""
    try:
        with session.begin_nested():
            undo()
    except NotFoundError:
        raise
    except HindsightError as error:
        return str(error)
    return ""


@router.post("/incidents/{key}/history/{version}/restore", dependencies=[Depends(verify_csrf)])
async def restore(
    request: Request,
    key: str,
    version: int,
    actor: Actor = Depends(page_actor),
    session: Session = SESSION,
) -> Response:
    """Put back an item a revision removed (the page's Undo, or the history's Restore)."""
    form = await form_fields(request)
    item = form.get("item", "")
    refused = _attempt(
        session,
        lambda: restore_item(
            session, key=key, version=version, item=item, author=actor.username, actor=actor
        ),
    )
    if refused:
        return _back(key, refused, to_history=True)
    item_path = split_item_path(form.get("item", ""))
    anchor = "" if item_path is None else f"#edit-{item_path.item_id}"
    return RedirectResponse(f"/incidents/{key}{anchor}", status_code=303)


@router.post("/incidents/{key}/history/{version}/revert", dependencies=[Depends(verify_csrf)])
async def revert(
    request: Request,
    key: str,
    version: int,
    actor: Actor = Depends(page_actor),
    session: Session = SESSION,
) -> Response:
    """Undo one revision as a new revision."""
    refused = _attempt(
        session,
        lambda: revert_revision(
            session, key=key, version=version, author=actor.username, actor=actor
        ),
    )
    if refused:
        return _back(key, refused, to_history=True)
    return _back(key, f"Reverted version {version}.", to_history=True)


def undo_offer(
    session: Session, key: str, actor: Actor, query: Mapping[str, str]
) -> dict[str, Any] | None:
    """After a removal (…?v=12&removed=timeline.ev-3f9a2c), what the page's Undo restores."""
    removed, version = query.get("removed", ""), query.get("v", "")
    item_path = split_item_path(removed)
    if item_path is None or not version.isdigit():
        return None
    revision = next(
        (r for r in list_revisions(session, key=key, actor=actor) if r.version == int(version)),
        None,
    )
    if revision is None:
        return None
    change = next((c for c in revision.changes if c.field == removed and c.new is None), None)
    if change is None:
        return None
    return {
        "version": int(version),
        "item": removed,
        "label": change.label,
        "noun": NOUNS[item_path.list_path],
    }
