"""The API of the cross-postmortem views: action items (list, bulk status, CSV) and insights."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from hindsight.domain.access import Actor
from hindsight.services.action_items import (
    MAX_BULK,
    ActionItemFilter,
    ActionItemSummary,
    ItemRef,
    list_action_items,
    set_status_in_bulk,
)
from hindsight.services.database import Session
from hindsight.services.incidents import utc_now
from hindsight.services.insights import gather_insights, insights_as_dict
from hindsight.web.deps import SESSION
from hindsight.web.routes.action_items import action_items_csv
from hindsight.web.routes.insights import insight_filter
from hindsight.web.schemas import ErrorBody

router = APIRouter()
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (400, 401, 403, 404, 409, 422)
}


class ActionItemRead(BaseModel):
    key: str
    incident_title: str
    severity: str
    version: int
    item_id: str
    title: str
    kind: str
    owner: str
    owner_is_account: bool
    team: str
    priority: str
    due: dt.date | None
    status: str
    reason: str
    tracker_url: str
    opened_at: dt.datetime | None
    closed_at: dt.datetime | None
    age_seconds: float | None
    time_to_close_seconds: float | None
    overdue: bool


class ActionItemPageRead(BaseModel):
    items: list[ActionItemRead]
    total: int
    limit: int
    offset: int


class ItemRefBody(BaseModel):
    key: str = Field(max_length=80)
    item_id: str = Field(max_length=40)
    version: int | None = Field(default=None, description="The incident version you read")


class BulkStatusBody(BaseModel):
    items: list[ItemRefBody] = Field(max_length=MAX_BULK)
    status: str
    reason: str = Field(default="", max_length=500)


class BulkStatusRead(BaseModel):
    changed: int
    incidents: dict[str, int] = Field(description="The new version of each incident touched")


def _read(item: ActionItemSummary, now: dt.datetime) -> ActionItemRead:
    age, closing = item.age(now), item.time_to_close
    return ActionItemRead(
        **{k: v for k, v in item.__dict__.items()},
        age_seconds=age.total_seconds() if age is not None else None,
        time_to_close_seconds=closing.total_seconds() if closing is not None else None,
        overdue=item.is_overdue(now.date()),
    )


def _filters(
    who: str,
    owner: str | None,
    team: str | None,
    status: list[str],
    kind: list[str],
    priority: list[str],
    due: str | None,
    service: str | None,
    severity: list[str],
) -> ActionItemFilter:
    return ActionItemFilter(
        mine=who == "mine",
        owner=owner,
        team=team,
        statuses=status,
        kinds=kind,
        priorities=priority,
        due=due,
        service=service,
        severities=severity,
    )


def register(router: APIRouter, actor_dependency: Any) -> None:
    """Add the routes to the API's router, with its authentication."""
    actor_of = Depends(actor_dependency)

    @router.get("/action-items", response_model=ActionItemPageRead, responses=ERRORS)
    async def action_items_list(
        actor: Actor = actor_of,
        session: Session = SESSION,
        who: str = Query("all", pattern="^(mine|all)$"),
        owner: str | None = None,
        team: str | None = None,
        status: list[str] = Query([]),
        kind: list[str] = Query([]),
        priority: list[str] = Query([]),
        due: str | None = Query(None, description="overdue, week or none"),
        service: str | None = None,
        severity: list[str] = Query([]),
        sort: str = "due",
        limit: int = Query(50, ge=1, le=500),
        offset: int = Query(0, ge=0, le=10_000_000),
    ) -> Response:
        """Action items across the postmortems you may see, filtered, sorted and paginated
        (`who=mine`: owned by your username or display name)."""
        filters = _filters(who, owner, team, status, kind, priority, due, service, severity)
        page = list_action_items(
            session, filters=filters, actor=actor, sort=sort, limit=limit, offset=offset
        )
        now = utc_now()
        body = ActionItemPageRead(
            items=[_read(item, now) for item in page.items],
            total=page.total,
            limit=limit,
            offset=offset,
        )
        return Response(body.model_dump_json(), media_type="application/json")

    @router.get("/action-items.csv", responses=ERRORS)
    async def action_items_csv_export(
        request: Request,
        actor: Actor = actor_of,
        session: Session = SESSION,
        who: str = Query("all", pattern="^(mine|all)$"),
        owner: str | None = None,
        team: str | None = None,
        status: list[str] = Query([]),
        kind: list[str] = Query([]),
        priority: list[str] = Query([]),
        due: str | None = None,
        service: str | None = None,
        severity: list[str] = Query([]),
        sort: str = "due",
    ) -> Response:
        """Every action item the filters keep, as CSV (the same columns as the page's)."""
        filters = _filters(who, owner, team, status, kind, priority, due, service, severity)
        page = list_action_items(session, filters=filters, actor=actor, sort=sort, limit=100_000)
        base = str(request.base_url).rstrip("/").removesuffix("/api/v1")
        return Response(
            action_items_csv(page.items, utc_now(), base),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="action-items.csv"'},
        )

    @router.post("/action-items/status", response_model=BulkStatusRead, responses=ERRORS)
    async def action_items_bulk_status(
        body: BulkStatusBody, actor: Actor = actor_of, session: Session = SESSION
    ) -> Response:
        """Give every listed item one status, with one revision per postmortem; all or
        nothing (409 lists the conflicting fields when a version is stale and both sides
        changed the same item)."""
        stored = set_status_in_bulk(
            session,
            items=[ItemRef(i.key, i.item_id, i.version) for i in body.items],
            status=body.status,
            reason=body.reason,
            actor=actor,
            author=actor.username,
        )
        result = BulkStatusRead(
            changed=len(body.items),
            incidents={s.postmortem.key: s.version for s in stored},
        )
        return JSONResponse(result.model_dump())

    @router.get("/insights", responses=ERRORS)
    async def insights_read(
        actor: Actor = actor_of,
        session: Session = SESSION,
        start: str | None = Query(None, alias="from", description="YYYY-MM-DD"),
        end: str | None = Query(None, alias="to", description="YYYY-MM-DD"),
        service: str | None = None,
        team: str | None = None,
        severity: list[str] = Query([]),
    ) -> Response:
        """The dashboard's numbers over the incidents you may see (default: the last twelve
        calendar months): response times in minutes, times to close in days."""
        filters = insight_filter(start, end, service, team, severity, utc_now().date())
        insights = gather_insights(session, filters=filters, actor=actor)
        return JSONResponse(insights_as_dict(insights))
