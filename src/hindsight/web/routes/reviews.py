"""Review workflow, members and comments from the postmortem page."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from hindsight.domain.access import Actor
from hindsight.services.database import Session
from hindsight.services.reviews import (
    add_comment,
    add_member,
    decide,
    publish,
    reopen,
    request_review,
)
from hindsight.web.deps import SESSION, form_fields, page_actor, verify_csrf

router = APIRouter(dependencies=[Depends(verify_csrf)])


def _back(key: str, anchor: str) -> Response:
    return RedirectResponse(f"/incidents/{key}#{anchor}", status_code=303)


@router.post("/incidents/{key}/review/request")
async def review_request(
    request: Request, key: str, actor: Actor = Depends(page_actor), session: Session = SESSION
) -> Response:
    """Ask the named people (comma or space separated) to review."""
    raw = (await form_fields(request)).get("reviewers", "")
    names = [name for name in raw.replace(",", " ").split() if name]
    request_review(session, key=key, actor=actor, reviewers=names)
    return _back(key, "review")


@router.post("/incidents/{key}/review/decide")
async def review_decide(
    request: Request, key: str, actor: Actor = Depends(page_actor), session: Session = SESSION
) -> Response:
    """Approve, or request changes with a note."""
    form = await form_fields(request)
    decide(
        session,
        key=key,
        actor=actor,
        approve=form.get("decision") == "approve",
        note=form.get("note", ""),
    )
    return _back(key, "review")


@router.post("/incidents/{key}/review/publish")
async def review_publish(
    request: Request, key: str, actor: Actor = Depends(page_actor), session: Session = SESSION
) -> Response:
    """Publish an approved postmortem (with an override reason past lint errors)."""
    override = (await form_fields(request)).get("override", "")
    publish(session, key=key, actor=actor, override=override)
    return _back(key, "review")


@router.post("/incidents/{key}/review/reopen")
async def review_reopen(
    request: Request, key: str, actor: Actor = Depends(page_actor), session: Session = SESSION
) -> Response:
    """Reopen a published postmortem, saying why."""
    reopen(session, key=key, actor=actor, reason=(await form_fields(request)).get("reason", ""))
    return _back(key, "review")


@router.post("/incidents/{key}/members")
async def members_add(
    request: Request, key: str, actor: Actor = Depends(page_actor), session: Session = SESSION
) -> Response:
    """Give someone access to this incident."""
    add_member(
        session, key=key, actor=actor, username=(await form_fields(request)).get("username", "")
    )
    return _back(key, "members")


@router.post("/incidents/{key}/comments/{section}")
async def comment_add(
    request: Request,
    key: str,
    section: str,
    actor: Actor = Depends(page_actor),
    session: Session = SESSION,
) -> Response:
    """Comment on a section."""
    add_comment(
        session,
        key=key,
        actor=actor,
        section=section,
        body=(await form_fields(request)).get("body", ""),
    )
    return _back(key, f"comments-{section}")
