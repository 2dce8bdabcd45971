"""API: the review workflow, comments on sections and who has access to an incident."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from hindsight.domain.access import Actor
from hindsight.services.database import Session
from hindsight.services.reviews import (
    add_comment,
    add_member,
    decide,
    list_comments,
    list_members,
    list_reviewers,
    publish,
    reopen,
    request_review,
)
from hindsight.web.deps import SESSION
from hindsight.web.routes.api_common import ACTOR, ERRORS, read_response
from hindsight.web.schemas import (
    CommentCreate,
    CommentRead,
    DecisionBody,
    IncidentRead,
    MemberAdd,
    PublishBody,
    ReopenBody,
    ReviewerRead,
    ReviewRequestBody,
)

router = APIRouter()


@router.get("/incidents/{key}/reviewers", response_model=list[ReviewerRead], responses=ERRORS)
async def reviewers_list(
    key: str, actor: Actor = ACTOR, session: Session = SESSION
) -> list[ReviewerRead]:
    """Requested reviewers and their decisions."""
    return [ReviewerRead(**r.__dict__) for r in list_reviewers(session, key=key, actor=actor)]


@router.post("/incidents/{key}/review/request", response_model=IncidentRead, responses=ERRORS)
async def review_request(
    key: str, body: ReviewRequestBody, actor: Actor = ACTOR, session: Session = SESSION
) -> Response:
    """Request review from the named accounts."""
    return read_response(request_review(session, key=key, actor=actor, reviewers=body.reviewers))


@router.post("/incidents/{key}/review/decide", response_model=IncidentRead, responses=ERRORS)
async def review_decide(
    key: str, body: DecisionBody, actor: Actor = ACTOR, session: Session = SESSION
) -> Response:
    """Approve, or request changes with a note (requested reviewers only)."""
    return read_response(
        decide(session, key=key, actor=actor, approve=body.approve, note=body.note)
    )


@router.post("/incidents/{key}/review/publish", response_model=IncidentRead, responses=ERRORS)
async def review_publish(
    key: str, body: PublishBody | None = None, actor: Actor = ACTOR, session: Session = SESSION
) -> Response:
    """Publish an approved postmortem; past error-level lint findings, give `override`."""
    override = body.override if body else ""
    return read_response(publish(session, key=key, actor=actor, override=override))


@router.post("/incidents/{key}/review/reopen", response_model=IncidentRead, responses=ERRORS)
async def review_reopen(
    key: str, body: ReopenBody, actor: Actor = ACTOR, session: Session = SESSION
) -> Response:
    """Reopen a published postmortem, saying why."""
    return read_response(reopen(session, key=key, actor=actor, reason=body.reason))


@router.get("/incidents/{key}/comments", response_model=list[CommentRead], responses=ERRORS)
async def comments_list(
    key: str, actor: Actor = ACTOR, session: Session = SESSION
) -> list[CommentRead]:
    """Comments on every section, oldest first."""
    return [CommentRead(**c.__dict__) for c in list_comments(session, key=key, actor=actor)]


@router.post(
    "/incidents/{key}/comments", response_model=CommentRead, status_code=201, responses=ERRORS
)
async def comments_add(
    key: str, body: CommentCreate, actor: Actor = ACTOR, session: Session = SESSION
) -> CommentRead:
    """Comment on a section."""
    comment = add_comment(session, key=key, actor=actor, section=body.section, body=body.body)
    return CommentRead(**comment.__dict__)


@router.get("/incidents/{key}/members", response_model=list[str], responses=ERRORS)
async def members_list(key: str, actor: Actor = ACTOR, session: Session = SESSION) -> list[str]:
    """Usernames with access to the incident."""
    return list_members(session, key=key, actor=actor)


@router.post("/incidents/{key}/members", response_model=list[str], responses=ERRORS)
async def members_add(
    key: str, body: MemberAdd, actor: Actor = ACTOR, session: Session = SESSION
) -> list[str]:
    """Give an account access to the incident."""
    add_member(session, key=key, actor=actor, username=body.username)
    return list_members(session, key=key, actor=actor)
