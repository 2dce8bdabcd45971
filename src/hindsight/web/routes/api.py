"""The JSON API under /api/v1: everything the UI does, for scripts, with token auth.

Errors are JSON: {"error": {"message": ..., "field": ..., "current_version": ...}}.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from hindsight.domain.access import Actor
from hindsight.domain.codec import postmortem_from_dict, postmortem_to_dict
from hindsight.domain.editing import append_item, remove_item, set_fields
from hindsight.domain.incidents import Postmortem
from hindsight.rendering.history import describe_changes
from hindsight.services.accounts import (
    actor_for_token,
    create_token,
    list_tokens,
    record_token_use,
    revoke_token,
)
from hindsight.services.archive import archive_incident, delete_incident, unarchive_incident
from hindsight.services.database import Session
from hindsight.services.history import restore_item, revert_revision
from hindsight.services.incidents import (
    IncidentFilter,
    StoredPostmortem,
    create_postmortem,
    get_postmortem,
    list_postmortems,
    list_revisions,
    new_key,
    update_postmortem,
)
from hindsight.services.reports import ReportFormat, build_report, prepare_report, report_metrics
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
from hindsight.web.api_errors import ApiUnauthorizedError, install_api_errors
from hindsight.web.deps import (
    CSRF_FIELD,
    CSRF_HEADER,
    SESSION,
    database,
    optional_actor,
    run_heavy,
    verify_hook_token,
)
from hindsight.web.routes import api_docs, api_insights, candidates
from hindsight.web.routes.imports import hooks
from hindsight.web.schemas import (
    CommentCreate,
    CommentRead,
    DecisionBody,
    ErrorBody,
    IncidentCreate,
    IncidentPageRead,
    IncidentRead,
    IncidentReplace,
    IncidentSummaryRead,
    IncidentUpdate,
    ItemAppend,
    MemberAdd,
    MeRead,
    PublishBody,
    ReopenBody,
    RestoreBody,
    ReviewerRead,
    ReviewRequestBody,
    RevisionRead,
    TokenCreate,
    TokenCreated,
    TokenRead,
    metrics_of,
)
from hindsight.web.security import EXPORT_POLICY

# -- authentication --------------------------------------------------------------------------


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
router = APIRouter()


def _json(model: BaseModel, status: int = 200) -> Response:
    """Serialise once with pydantic: FastAPI would otherwise walk the whole postmortem again
    (jsonable_encoder), which cost more than loading it. The declared response_model still
    documents the shape."""
    return Response(model.model_dump_json(), status_code=status, media_type="application/json")


def _read(stored: StoredPostmortem, status: int = 200) -> Response:
    return _json(_read_model(stored), status)


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
    return _read(stored)


# Fields a PUT that leaves them out keeps rather than resets: losing either silently would
# widen who can read the incident, or skip the review workflow.
KEPT_BY_REPLACE = ("visibility", "review_status")

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (400, 401, 403, 404, 409, 422)
}


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
    return _json(IncidentPageRead(items=items, total=page.total, limit=limit, offset=offset))


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
    return _read(stored, status=201)


@router.get("/incidents/{key}", response_model=IncidentRead, responses=ERRORS)
async def incidents_get(key: str, actor: Actor = ACTOR, session: Session = SESSION) -> Response:
    """One postmortem with its version and computed metrics."""
    return _read(get_postmortem(session, key=key, actor=actor))


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
    return _read(archive_incident(session, key=key, author=actor.username, actor=actor))


@router.post("/incidents/{key}/unarchive", response_model=IncidentRead, responses=ERRORS)
async def incidents_unarchive(
    key: str, actor: Actor = ACTOR, session: Session = SESSION
) -> Response:
    """Bring an archived incident back into lists and search."""
    return _read(unarchive_incident(session, key=key, author=actor.username, actor=actor))


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
    return _read(stored)


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
    return _read(stored)


@router.get(
    "/incidents/{key}/export",
    responses={
        200: {
            "content": {
                "text/markdown": {},
                "application/json": {},
                "text/html": {},
                "application/pdf": {},
            }
        },
        **ERRORS,
    },
)
async def incidents_export(
    request: Request,
    key: str,
    format: ReportFormat = ReportFormat.MARKDOWN,
    template: str = Query("", max_length=80),
    actor: Actor = ACTOR,
    session: Session = SESSION,
) -> Response:
    """The Markdown or JSON form, or the report as standalone HTML or PDF (`template`)."""
    settings = request.app.state.settings
    postmortem, chosen = prepare_report(
        session,
        key=key,
        fmt=format,
        template=template,
        default_template=settings.default_template,
        actor=actor,
    )
    metrics = report_metrics(session, key=key, actor=actor, postmortem=postmortem)
    report = await run_heavy(
        build_report, postmortem, format, chosen, settings.resolved_templates_dir(), metrics
    )
    return Response(
        report.content,
        media_type=report.media_type,
        headers={"Content-Security-Policy": EXPORT_POLICY},
    )


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
    return _read(request_review(session, key=key, actor=actor, reviewers=body.reviewers))


@router.post("/incidents/{key}/review/decide", response_model=IncidentRead, responses=ERRORS)
async def review_decide(
    key: str, body: DecisionBody, actor: Actor = ACTOR, session: Session = SESSION
) -> Response:
    """Approve, or request changes with a note (requested reviewers only)."""
    return _read(decide(session, key=key, actor=actor, approve=body.approve, note=body.note))


@router.post("/incidents/{key}/review/publish", response_model=IncidentRead, responses=ERRORS)
async def review_publish(
    key: str, body: PublishBody | None = None, actor: Actor = ACTOR, session: Session = SESSION
) -> Response:
    """Publish an approved postmortem; past error-level lint findings, give `override`."""
    override = body.override if body else ""
    return _read(publish(session, key=key, actor=actor, override=override))


@router.post("/incidents/{key}/review/reopen", response_model=IncidentRead, responses=ERRORS)
async def review_reopen(
    key: str, body: ReopenBody, actor: Actor = ACTOR, session: Session = SESSION
) -> Response:
    """Reopen a published postmortem, saying why."""
    return _read(reopen(session, key=key, actor=actor, reason=body.reason))


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


api_insights.register(router, api_actor)


def create_api() -> FastAPI:
    """The API application, mounted at /api/v1 (OpenAPI at /api/v1/openapi.json, the explorer
    at /api/v1/docs)."""
    api = FastAPI(
        title="Hindsight API",
        version="1",
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    from hindsight.web.routes import api_similar  # it builds on this module's ACTOR and ERRORS

    api.include_router(router)
    api.include_router(api_similar.router)
    api.include_router(candidates.api_router(ACTOR, ERRORS))
    api.include_router(hooks, dependencies=[Depends(verify_hook_token)])
    api.include_router(api_docs.router)
    from hindsight.web.routes import metrics  # it uses ACTOR, defined above

    api.include_router(metrics.api_router)

    from hindsight.web.routes import api_archive  # it builds on this module's ACTOR

    api.include_router(api_archive.router)
    install_api_errors(api)
    return api
