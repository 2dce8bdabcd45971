"""Dismiss a lint finding with a reason, or take the dismissal back: from the review
checklist on the incident page, and in the API (`/api/v1/incidents/{key}/findings`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from hindsight.analysis.lint import LintReport
from hindsight.domain.access import Actor
from hindsight.services.database import Session
from hindsight.services.lint import lint_stored
from hindsight.services.lint_dismissals import dismiss_finding, restore_finding
from hindsight.web.deps import SESSION, form_fields, page_actor, verify_csrf
from hindsight.web.routes.api import ACTOR, ERRORS

router = APIRouter(dependencies=[Depends(verify_csrf)])
api_router = APIRouter()


class FindingRef(BaseModel):
    """A finding by its rule and field, as the review lists them."""

    rule: str = Field(max_length=100)
    field: str = Field(max_length=300)


class DismissBody(FindingRef):
    """Why the finding does not apply (required; kept in the history)."""

    reason: str = Field(max_length=500)


def review_json(report: LintReport) -> dict[str, Any]:
    """The review as the API gives it: score, problems, findings and dismissals."""
    return {
        "score": report.score,
        "problems": [
            {"rule": p.rule, "level": p.level.value, "part": p.part, "count": p.count}
            for p in report.problems
        ],
        "parts": {
            part: {
                "complete": s.complete,
                "clarity_problems": s.clarity_problems,
                "problems": s.problems,
            }
            for part, s in report.parts.items()
        },
        "findings": [
            {
                "rule": f.rule,
                "level": f.level.value,
                "part": f.part,
                "field": f.field,
                "message": f.message,
                "suggestion": f.suggestion,
                "excerpt": f.excerpt,
            }
            for f in report.findings
        ],
        "dismissed": [
            {
                "rule": f.rule,
                "field": f.field,
                "reason": d.reason,
                "author": d.author,
                "at": d.at.isoformat() if d.at else None,
            }
            for f, d in report.dismissed
        ],
    }


@router.post("/incidents/{key}/findings/dismiss")
async def dismiss(
    request: Request, key: str, actor: Actor = Depends(page_actor), session: Session = SESSION
) -> Response:
    """Dismiss one finding of the checklist with the reason typed beside it."""
    form = await form_fields(request)
    dismiss_finding(
        session,
        key=key,
        rule=form.get("rule", ""),
        field=form.get("field", ""),
        reason=form.get("reason", ""),
        author=actor.username,
        actor=actor,
    )
    return RedirectResponse(f"/incidents/{key}#lint", status_code=303)


@router.post("/incidents/{key}/findings/undismiss")
async def undismiss(
    request: Request, key: str, actor: Actor = Depends(page_actor), session: Session = SESSION
) -> Response:
    """Make a dismissed finding count again."""
    form = await form_fields(request)
    restore_finding(
        session,
        key=key,
        rule=form.get("rule", ""),
        field=form.get("field", ""),
        author=actor.username,
        actor=actor,
    )
    return RedirectResponse(f"/incidents/{key}#lint", status_code=303)


@api_router.get("/incidents/{key}/findings", responses=ERRORS)
async def findings_read(key: str, actor: Actor = ACTOR, session: Session = SESSION) -> Response:
    """The review: score, problems (a repeated finding counted once), each part's
    completeness and clarity, the findings and the dismissed findings."""
    return JSONResponse(review_json(lint_stored(session, key=key, actor=actor)))


@api_router.post("/incidents/{key}/findings/dismiss", responses=ERRORS)
async def findings_dismiss(
    key: str, body: DismissBody, actor: Actor = ACTOR, session: Session = SESSION
) -> Response:
    """Dismiss one finding with a reason; answers the review without it."""
    dismiss_finding(
        session,
        key=key,
        rule=body.rule,
        field=body.field,
        reason=body.reason,
        author=actor.username,
        actor=actor,
    )
    return JSONResponse(review_json(lint_stored(session, key=key, actor=actor)))


@api_router.post("/incidents/{key}/findings/undismiss", responses=ERRORS)
async def findings_undismiss(
    key: str, body: FindingRef, actor: Actor = ACTOR, session: Session = SESSION
) -> Response:
    """Take a dismissal back; answers the review with the finding counted again."""
    restore_finding(
        session, key=key, rule=body.rule, field=body.field, author=actor.username, actor=actor
    )
    return JSONResponse(review_json(lint_stored(session, key=key, actor=actor)))
