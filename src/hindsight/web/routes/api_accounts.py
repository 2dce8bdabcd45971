"""API: the account a request acts as, and its API tokens."""

from __future__ import annotations

from fastapi import APIRouter, Path
from fastapi.responses import Response

from hindsight.domain.access import Actor
from hindsight.services.accounts import create_token, list_tokens, revoke_token
from hindsight.services.database import Session
from hindsight.web.deps import SESSION
from hindsight.web.routes.api_common import ACTOR, ERRORS
from hindsight.web.schemas import MeRead, TokenCreate, TokenCreated, TokenRead

router = APIRouter()


@router.get("/me", response_model=MeRead, responses=ERRORS)
async def me(actor: Actor = ACTOR) -> MeRead:
    """The account the request acts as."""
    return MeRead(
        username=actor.username,
        display_name=actor.display_name,
        role=actor.role,
        timezone=actor.timezone,
    )


@router.get("/tokens", response_model=list[TokenRead], responses=ERRORS)
async def tokens_list(actor: Actor = ACTOR, session: Session = SESSION) -> list[TokenRead]:
    """Your live API tokens (never the tokens themselves)."""
    return [TokenRead(**t.__dict__) for t in list_tokens(session, actor=actor)]


@router.post("/tokens", response_model=TokenCreated, status_code=201, responses=ERRORS)
async def tokens_create(
    body: TokenCreate, actor: Actor = ACTOR, session: Session = SESSION
) -> TokenCreated:
    """A new token, shown once."""
    return TokenCreated(token=create_token(session, actor=actor, name=body.name))


@router.delete("/tokens/{token_id}", status_code=204, responses=ERRORS)
async def tokens_revoke(
    token_id: int = Path(ge=1, le=2**31 - 1), actor: Actor = ACTOR, session: Session = SESSION
) -> Response:
    """Revoke a token."""
    revoke_token(session, actor=actor, token_id=token_id)
    return Response(status_code=204)
