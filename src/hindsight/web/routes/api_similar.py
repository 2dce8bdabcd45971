"""API: similar earlier incidents (with why and a possible recurrence), and recurrence links."""

from __future__ import annotations

from functools import partial
from typing import Literal

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel, Field

from hindsight.domain.access import Actor
from hindsight.services.database import Session
from hindsight.services.recurrence import (
    dismiss_recurrence,
    link_recurrence,
    unlink_recurrence,
)
from hindsight.services.similar import find_similar, similar_to_dict
from hindsight.web.deps import SESSION, run_heavy
from hindsight.web.routes.api import ACTOR, ERRORS

router = APIRouter()


class WhyRead(BaseModel):
    services: list[str]
    factor_categories: list[str]
    tags: list[str]
    terms: list[str]
    sentence: str


class SimilarItemRead(BaseModel):
    key: str
    title: str
    created_at: str
    score: float
    lexical: float
    semantic: float | None
    structured: float
    recurrence: float
    linked: bool
    why: WhyRead


class ActionStateRead(BaseModel):
    id: str
    title: str
    kind: str
    status: str


class RecurrenceRead(BaseModel):
    key: str
    title: str
    happened_at: str
    score: float
    actions_summary: str
    action_items: list[ActionStateRead]


class LinkRead(BaseModel):
    key: str
    title: str
    created_at: str
    earlier: bool


class SimilarRead(BaseModel):
    """`mode` is 'hybrid', or 'lexical' when the embedding model is unavailable (`note`)."""

    mode: str
    note: str
    items: list[SimilarItemRead]
    recurrence: RecurrenceRead | None
    links: list[LinkRead]


class RecurrenceBody(BaseModel):
    other: str = Field(min_length=1, max_length=80)
    action: Literal["link", "dismiss", "unlink"] = "link"


@router.get("/incidents/{key}/similar", response_model=SimilarRead, responses=ERRORS)
async def similar_get(
    key: str, limit: int = 5, actor: Actor = ACTOR, session: Session = SESSION
) -> SimilarRead:
    """The earlier incidents most like this one that you may see, best first, with why."""
    limit = max(1, min(limit, 50))
    # Ranking the whole archive is CPU work (bench/similar): off the event loop.
    found = await run_heavy(partial(find_similar, session, key=key, actor=actor, limit=limit))
    return SimilarRead(**similar_to_dict(found))


@router.post("/incidents/{key}/recurrence", status_code=204, responses=ERRORS)
async def recurrence_post(
    key: str, body: RecurrenceBody, actor: Actor = ACTOR, session: Session = SESSION
) -> Response:
    """Link `other` as a recurrence of this incident (stored both ways), dismiss the
    suggestion, or unlink."""
    action = {"link": link_recurrence, "dismiss": dismiss_recurrence, "unlink": unlink_recurrence}
    action[body.action](session, key=key, other_key=body.other, author=actor.username, actor=actor)
    return Response(status_code=204)
