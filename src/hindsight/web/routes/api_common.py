"""What the API's route modules share: authentication, the error responses they document
and answering with a postmortem."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel

from hindsight.domain.access import Actor
from hindsight.domain.codec import postmortem_to_dict
from hindsight.services.accounts import actor_for_token, record_token_use
from hindsight.services.incidents import StoredPostmortem
from hindsight.web.api_errors import ApiUnauthorizedError
from hindsight.web.deps import CSRF_FIELD, CSRF_HEADER, database, optional_actor
from hindsight.web.schemas import ErrorBody, IncidentRead, metrics_of


async def api_actor(request: Request) -> Actor:
    """The token's account (Authorization: Bearer …), or the browser session's with its CSRF
    header on writes."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        token = header[7:].strip()
        with database(request).reading() as session:
            actor, stale = actor_for_token(session, token=token)
        if actor is None:
            raise ApiUnauthorizedError
        if stale:
            with database(request).transaction() as session:
                record_token_use(session, token=token)
        return actor
    actor = optional_actor(request)
    if actor is None:
        raise ApiUnauthorizedError
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        expected = request.session.get(CSRF_FIELD)
        if not expected or request.headers.get(CSRF_HEADER) != expected:
            raise ApiUnauthorizedError
    return actor


ACTOR = Depends(api_actor)

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (400, 401, 403, 404, 409, 422)
}


def json_response(model: BaseModel, status: int = 200) -> Response:
    """Serialise once with pydantic: FastAPI would otherwise walk the whole postmortem again
    (jsonable_encoder), which cost more than loading it. The declared response_model still
    documents the shape."""
    return Response(model.model_dump_json(), status_code=status, media_type="application/json")


def read_response(stored: StoredPostmortem, status: int = 200) -> Response:
    """The postmortem with its version and computed metrics, as every API edit answers."""
    return json_response(_read_model(stored), status)


def _read_model(stored: StoredPostmortem) -> IncidentRead:
    return IncidentRead(
        key=stored.postmortem.key,
        version=stored.version,
        created_at=stored.created_at,
        updated_at=stored.updated_at,
        archived_at=stored.archived_at,
        archived_by=stored.archived_by,
        postmortem=postmortem_to_dict(stored.postmortem),
        metrics=metrics_of(stored.postmortem),
    )
