"""The Action items page: every item the viewer may see across postmortems, filtered, sorted,
paginated, changed in bulk and downloaded as CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from hindsight.analysis.metrics import format_duration
from hindsight.domain.access import Actor
from hindsight.domain.actions import ActionKind, ActionStatus, Priority
from hindsight.domain.incidents import Severity
from hindsight.errors import (
    ConflictError,
    HindsightError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from hindsight.services.action_items import (
    DUE_CHOICES,
    SORTS,
    ActionItemFilter,
    ActionItemPage,
    ActionItemSummary,
    ItemRef,
    list_action_items,
    set_status_in_bulk,
)
from hindsight.services.database import Session
from hindsight.services.incidents import utc_now
from hindsight.services.trackers import TrackerError, configured_trackers, export_action_items
from hindsight.web.deps import SESSION, page_actor, render, verify_csrf

router = APIRouter()
PAGE_SIZES = (25, 50, 100)
CSV_LIMIT = 100_000
CSV_COLUMNS = (
    "incident",
    "incident_title",
    "severity",
    "item_id",
    "title",
    "kind",
    "owner",
    "team",
    "priority",
    "due",
    "status",
    "reason",
    "tracker_url",
    "opened_at",
    "closed_at",
    "age_days",
    "days_to_close",
    "link",
)


def filter_from_query(
    request: Request, signed_in: bool
) -> tuple[ActionItemFilter, str, dict[str, str]]:
    """The filter, sort and form values of the page's query; "mine" is on by default for a
    signed-in person until the form says otherwise (`who=all`)."""
    params = request.query_params
    who = params.get("who") or ("mine" if signed_in else "all")
    filters = ActionItemFilter(
        mine=who == "mine",
        owner=params.get("owner") or None,
        team=params.get("team") or None,
        statuses=params.getlist("status"),
        kinds=params.getlist("kind"),
        priorities=params.getlist("priority"),
        due=params.get("due") or None,
        service=params.get("service") or None,
        severities=params.getlist("severity"),
    )
    return filters, params.get("sort") or "due", {"who": who}


def _days(value: dt.timedelta | None) -> str:
    return "" if value is None else f"{value.total_seconds() / 86400:.1f}"


def item_link(item: ActionItemSummary) -> str:
    """Where the item is on its postmortem's page."""
    return f"/incidents/{item.key}#{item.item_id}"


def action_items_csv(items: list[ActionItemSummary], now: dt.datetime, base: str) -> str:
    """The items as CSV, one row per item, with the columns of CSV_COLUMNS."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for item in items:
        writer.writerow(
            [
                item.key,
                safe_cell(item.incident_title),
                item.severity,
                item.item_id,
                safe_cell(item.title),
                item.kind,
                safe_cell(item.owner),
                safe_cell(item.team),
                item.priority,
                item.due.isoformat() if item.due else "",
                item.status,
                safe_cell(item.reason),
                item.tracker_url,
                item.opened_at.isoformat() if item.opened_at else "",
                item.closed_at.isoformat() if item.closed_at else "",
                _days(item.age(now)),
                _days(item.time_to_close),
                base + item_link(item),
            ]
        )
    return out.getvalue()


def safe_cell(text: str) -> str:
    """A cell a spreadsheet will not run as a formula (OWASP's CSV injection advice)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@router.get("/actions")
async def action_items_page(
    request: Request,
    actor: Actor = Depends(page_actor),
    session: Session = SESSION,
    page: int = Query(1, ge=1, le=100_000),
    size: int = Query(50),
    changed: int = Query(0, ge=0),
    exported: int = Query(0, ge=0),
) -> Response:
    """The action items the viewer may see; "mine" by default."""
    size = size if size in PAGE_SIZES else 50
    filters, sort, form = filter_from_query(request, signed_in=True)
    error = ""
    try:
        result = list_action_items(
            session, filters=filters, actor=actor, sort=sort, limit=size, offset=(page - 1) * size
        )
    except HindsightError as problem:
        error = str(problem)
        result = list_action_items(
            session, filters=ActionItemFilter(mine=filters.mine), actor=actor, limit=size
        )
    return _render(request, result, page, size, form, error, changed, exported=exported)


def _render(
    request: Request,
    result: ActionItemPage,
    number: int,
    size: int,
    form: dict[str, str],
    error: str = "",
    changed: int = 0,
    status: int = 200,
    exported: int = 0,
) -> Response:
    pages = max(1, math.ceil(result.total / size))
    hidden = ("page", "changed", "exported")
    query = [(k, v) for k, v in request.query_params.multi_items() if k not in hidden]
    now = utc_now()

    def page_url(n: int) -> str:
        return "/actions?" + urlencode([*query, ("page", str(n))])

    filtered = any(
        v
        for k, v in request.query_params.multi_items()
        if k not in ("page", "sort", "size", "who", "changed", "exported")
    )
    return render(
        request,
        "actions.html",
        {
            "page": result,
            "number": number,
            "pages": pages,
            "page_url": page_url,
            "filters": request.query_params,
            "who": form["who"],
            "sorts": list(SORTS),
            "sizes": PAGE_SIZES,
            "error": error,
            "changed": changed,
            "exported": exported,
            "trackers": configured_trackers(request.app.state.settings),
            "filtered": filtered,
            "now": now,
            "today": now.date(),
            "duration": format_duration,
            "item_link": item_link,
            "csv_url": "/actions.csv?" + urlencode(query),
            "back": urlencode(query),
            "choices": {
                "status": [s.value for s in ActionStatus],
                "kind": [k.value for k in ActionKind],
                "priority": [p.value for p in Priority],
                "severity": [s.value for s in Severity],
                "due": list(DUE_CHOICES),
            },
        },
        status=status,
    )


def refs_from_form(form: FormData) -> list[ItemRef]:
    """The checked items: each `item` value is KEY|ITEM_ID|VERSION."""
    refs = []
    for value in form.getlist("item"):
        parts = str(value).split("|")
        if len(parts) != 3 or not parts[2].isdigit():
            raise InvalidInputError(f"item: {str(value)[:80]!r} is not KEY|ITEM_ID|VERSION")
        refs.append(ItemRef(parts[0], parts[1], int(parts[2])))
    return refs


@router.post("/actions/status", dependencies=[Depends(verify_csrf)])
async def action_items_bulk_status(
    request: Request, actor: Actor = Depends(page_actor), session: Session = SESSION
) -> Response:
    """Give the checked items one status (one revision per postmortem), then back to the list."""
    form = await request.form()
    back = str(form.get("back", ""))
    try:
        refs = refs_from_form(form)
        # A savepoint: when one postmortem fails, the ones changed before it are undone too,
        # and the page can still be read in this transaction.
        with session.begin_nested():
            set_status_in_bulk(
                session,
                items=refs,
                status=str(form.get("status", "")),
                reason=str(form.get("reason", "")),
                actor=actor,
                author=actor.username,
            )
    except HindsightError as problem:
        result = list_action_items(session, filters=ActionItemFilter(mine=True), actor=actor)
        return _render(request, result, 1, 50, {"who": "mine"}, str(problem), 0, _status(problem))
    suffix = f"&{back}" if back else ""
    return RedirectResponse(f"/actions?changed={len(refs)}{suffix}", status_code=303)


@router.post("/actions/export", dependencies=[Depends(verify_csrf)])
async def action_items_bulk_export(
    request: Request, actor: Actor = Depends(page_actor), session: Session = SESSION
) -> Response:
    """Create a GitHub or Jira issue for each checked item (docs/trackers.md), then back."""
    form = await request.form()
    back = str(form.get("back", ""))
    try:
        refs = [ItemRef(r.key, r.item_id) for r in refs_from_form(form)]
        done = export_action_items(
            session,
            settings=request.app.state.settings,
            items=refs,
            tracker=str(form.get("tracker", "")),
            actor=actor,
            author=actor.username,
        )
    except HindsightError as problem:
        # Links stored before a tracker failed stay (the issues exist), so commit them.
        result = list_action_items(session, filters=ActionItemFilter(mine=True), actor=actor)
        code = 502 if isinstance(problem, TrackerError) else _status(problem)
        return _render(request, result, 1, 50, {"who": "mine"}, str(problem), 0, code)
    suffix = f"&{back}" if back else ""
    return RedirectResponse(f"/actions?exported={len(done)}{suffix}", status_code=303)


def _status(problem: HindsightError) -> int:
    for kind, code in ((ConflictError, 409), (NotFoundError, 404), (PermissionDeniedError, 403)):
        if isinstance(problem, kind):
            return code
    return 400


@router.get("/actions.csv")
async def action_items_csv_download(
    request: Request, actor: Actor = Depends(page_actor), session: Session = SESSION
) -> Response:
    """Every item the list's filters keep (not only one page), as CSV."""
    filters, sort, _ = filter_from_query(request, signed_in=True)
    result = list_action_items(session, filters=filters, actor=actor, sort=sort, limit=CSV_LIMIT)
    body = action_items_csv(result.items, utc_now(), str(request.base_url).rstrip("/"))
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="action-items.csv"'},
    )
