"""API: list, create, read, replace, change, archive and delete incidents, and their list items."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from fastapi import APIRouter, Query
from fastapi.responses import Response

from hindsight.domain.access import Actor
from hindsight.domain.codec import postmortem_from_dict, postmortem_to_dict
from hindsight.domain.editing import append_item, remove_item, set_fields
from hindsight.domain.incidents import Postmortem
from hindsight.services.archive import archive_incident, delete_incident, unarchive_incident
from hindsight.services.database import Session
from hindsight.services.incidents import (
    IncidentFilter,
    create_postmortem,
    get_postmortem,
    list_postmortems,
    new_key,
    update_postmortem,
)
from hindsight.web.deps import SESSION
from hindsight.web.routes.api_common import ACTOR, ERRORS, json_response, read_response
from hindsight.web.schemas import (
    IncidentCreate,
    IncidentPageRead,
    IncidentRead,
    IncidentReplace,
    IncidentSummaryRead,
    IncidentUpdate,
    ItemAppend,
)

router = APIRouter()


def _edit(
    session: Session,
    key: str,
    actor: Actor,
    change: Callable[[Postmortem], Postmortem],
    version: int,
    force: bool = False,
) -> Response:
    """Every API edit: apply `change` to the version the client read (merged per item and
    field onto a newer version), answer the result."""
    stored = update_postmortem(
        session,
        key=key,
        change=change,
        actor=actor,
        author=actor.username,
        expected_version=version,
        force=force,
    )
    return read_response(stored)


# Fields a PUT that leaves them out keeps rather than resets: losing either silently would
# widen who can read the incident, or skip the review workflow.
KEPT_BY_REPLACE = ("visibility", "review_status")


@router.get("/incidents", response_model=IncidentPageRead, responses=ERRORS)
async def incidents_list(
    actor: Actor = ACTOR,
    session: Session = SESSION,
    severity: list[str] = Query([]),
    status: list[str] = Query([]),
    review: list[str] = Query([]),
    service: str | None = None,
    tag: str | None = None,
    q: str | None = None,
    sort: str = "newest",
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=10_000_000),
    archived: bool = False,
) -> Response:
    """Incidents you may see, filtered, sorted and paginated (`archived`: the archived ones
    instead of the live ones)."""
    filters = IncidentFilter(
        severities=severity,
        statuses=status,
        review_statuses=review,
        service=service,
        tag=tag,
        text=q,
        archived=archived,
    )
    page = list_postmortems(
        session, filters=filters, limit=limit, offset=offset, actor=actor, sort=sort
    )
    items = [
        IncidentSummaryRead(
            **{**item.__dict__, "services": list(item.services), "tags": list(item.tags)}
        )
        for item in page.items
    ]
    return json_response(
        IncidentPageRead(items=items, total=page.total, limit=limit, offset=offset)
    )


@router.post("/incidents", response_model=IncidentRead, status_code=201, responses=ERRORS)
async def incidents_create(
    body: IncidentCreate, actor: Actor = ACTOR, session: Session = SESSION
) -> Response:
    """Create an incident; any part of the postmortem may be given at once."""
    day = body.date or dt.datetime.now(dt.UTC).date()
    data = {
        **body.postmortem,
        "title": body.title,
        "severity": body.severity,
        "key": body.key or new_key(session, body.title or "incident", day),
    }
    stored = create_postmortem(
        session, postmortem=postmortem_from_dict(data), author=actor.username, actor=actor
    )
    return read_response(stored, status=201)


@router.get("/incidents/{key}", response_model=IncidentRead, responses=ERRORS)
async def incidents_get(key: str, actor: Actor = ACTOR, session: Session = SESSION) -> Response:
    """One postmortem with its version and computed metrics."""
    return read_response(get_postmortem(session, key=key, actor=actor))


@router.put("/incidents/{key}", response_model=IncidentRead, responses=ERRORS)
async def incidents_replace(
    key: str, body: IncidentReplace, actor: Actor = ACTOR, session: Session = SESSION
) -> Response:
    """Replace the whole postmortem (its key stays); 409 if `version` is stale. Left out,
    `visibility` and `review_status` keep their current values (a restricted incident stays
    restricted); every other field left out takes its default."""

    def change(current: Postmortem) -> Postmortem:
        kept = {name: postmortem_to_dict(current)[name] for name in KEPT_BY_REPLACE}
        return postmortem_from_dict({**kept, **body.postmortem, "key": key})

    return _edit(session, key, actor, change, body.version)


@router.patch("/incidents/{key}", response_model=IncidentRead, responses=ERRORS)
async def incidents_update(
    key: str, body: IncidentUpdate, actor: Actor = ACTOR, session: Session = SESSION
) -> Response:
    """Set fields by path, all or none, validated together. A stale `version` is merged: 409
    only when the same field changed on both sides (the error lists them)."""
    return _edit(session, key, actor, lambda pm: set_fields(pm, body.set), body.version, body.force)


@router.delete("/incidents/{key}", status_code=204, responses=ERRORS)
async def incidents_delete(key: str, actor: Actor = ACTOR, session: Session = SESSION) -> Response:
    """Delete the incident and everything it holds, for good (admins only)."""
    delete_incident(session, key=key, actor=actor)
    return Response(status_code=204)


@router.post("/incidents/{key}/archive", response_model=IncidentRead, responses=ERRORS)
async def incidents_archive(key: str, actor: Actor = ACTOR, session: Session = SESSION) -> Response:
    """Archive: out of lists and search, read-only, kept (members who edit, and admins)."""
    return read_response(archive_incident(session, key=key, author=actor.username, actor=actor))


@router.post("/incidents/{key}/unarchive", response_model=IncidentRead, responses=ERRORS)
async def incidents_unarchive(
    key: str, actor: Actor = ACTOR, session: Session = SESSION
) -> Response:
    """Bring an archived incident back into lists and search."""
    return read_response(unarchive_incident(session, key=key, author=actor.username, actor=actor))


@router.post("/incidents/{key}/items/{path}", response_model=IncidentRead, responses=ERRORS)
async def items_append(
    key: str, path: str, body: ItemAppend, actor: Actor = ACTOR, session: Session = SESSION
) -> Response:
    """Append an item to a list (`timeline`, `action_items`, `analysis.root_causes`, …)."""
    return _edit(session, key, actor, lambda pm: append_item(pm, path, body.item), body.version)


@router.delete("/incidents/{key}/items/{path}", response_model=IncidentRead, responses=ERRORS)
async def items_remove(
    key: str, path: str, version: int, actor: Actor = ACTOR, session: Session = SESSION
) -> Response:
    """Remove a list item by path (`timeline.ev-3f9a2c`; a position such as `timeline.3`
    also works but may name another item if the list changed)."""
    return _edit(session, key, actor, lambda pm: remove_item(pm, path), version)
