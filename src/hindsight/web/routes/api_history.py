"""API: an incident's revisions, and undoing one or putting back what it removed."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from hindsight.domain.access import Actor
from hindsight.rendering.history import describe_changes
from hindsight.services.database import Session
from hindsight.services.history import restore_item, revert_revision
from hindsight.services.incidents import list_revisions
from hindsight.web.deps import SESSION
from hindsight.web.routes.api_common import ACTOR, ERRORS, read_response
from hindsight.web.schemas import IncidentRead, RestoreBody, RevisionRead

router = APIRouter()


@router.get("/incidents/{key}/history", response_model=list[RevisionRead], responses=ERRORS)
async def incidents_history(
    key: str, actor: Actor = ACTOR, session: Session = SESSION
) -> list[RevisionRead]:
    """Every revision: who, when, what changed."""
    return [
        RevisionRead(
            version=r.version,
            author=r.author,
            at=r.at,
            action=r.action,
            note=r.note,
            summary=[line.text for line in describe_changes(r.changes)],
            changes=[c.to_dict() for c in r.changes],
        )
        for r in list_revisions(session, key=key, actor=actor)
    ]


@router.post(
    "/incidents/{key}/revisions/{version}/revert", response_model=IncidentRead, responses=ERRORS
)
async def revisions_revert(
    key: str, version: int, actor: Actor = ACTOR, session: Session = SESSION
) -> Response:
    """Undo every change of one revision, as a new revision."""
    stored = revert_revision(session, key=key, version=version, author=actor.username, actor=actor)
    return read_response(stored)


@router.post(
    "/incidents/{key}/revisions/{version}/restore", response_model=IncidentRead, responses=ERRORS
)
async def revisions_restore(
    key: str, version: int, body: RestoreBody, actor: Actor = ACTOR, session: Session = SESSION
) -> Response:
    """Put back an item that this revision removed, with its id."""
    stored = restore_item(
        session, key=key, version=version, item=body.item, author=actor.username, actor=actor
    )
    return read_response(stored)
