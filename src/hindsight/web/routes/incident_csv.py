"""The incident list as CSV, with the list's filters and sort (every match, not one page)."""

from __future__ import annotations

import csv
import datetime as dt
import io

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from hindsight.domain.access import Actor
from hindsight.errors import HindsightError
from hindsight.services.database import Session
from hindsight.services.incidents import IncidentFilter, IncidentSummary, list_postmortems
from hindsight.web.deps import SESSION, page_actor
from hindsight.web.routes.action_items import safe_cell

router = APIRouter()
CSV_LIMIT = 100_000
COLUMNS = (
    "key",
    "title",
    "severity",
    "status",
    "review_status",
    "visibility",
    "services",
    "tags",
    "created_at",
    "updated_at",
    "link",
)


def _day(value: str | None, name: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise HindsightError(f"{name}: '{value}' is not a date like 2024-03-05") from None


def incident_filter(request: Request) -> IncidentFilter:
    """The incident list's filters from a query (the same names as the list page's)."""
    params = request.query_params
    return IncidentFilter(
        severities=params.getlist("severity"),
        statuses=params.getlist("status"),
        review_statuses=params.getlist("review"),
        service=params.get("service") or None,
        tag=params.get("tag") or None,
        text=params.get("q") or None,
        created_from=_day(params.get("from"), "from"),
        created_to=_day(params.get("to"), "to"),
        archived=params.get("archived") == "true",
    )


def incidents_csv(items: list[IncidentSummary], base: str) -> str:
    """One row per incident, with the columns of COLUMNS."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for item in items:
        writer.writerow(
            [
                item.key,
                safe_cell(item.title),
                item.severity,
                item.status,
                item.review_status,
                item.visibility,
                safe_cell("; ".join(item.services)),
                safe_cell("; ".join(item.tags)),
                item.created_at.isoformat(),
                item.updated_at.isoformat(),
                f"{base}/incidents/{item.key}",
            ]
        )
    return out.getvalue()


@router.get("/incidents.csv")
async def incident_list_csv(
    request: Request, actor: Actor = Depends(page_actor), session: Session = SESSION
) -> Response:
    """Every incident the list's filters keep, as CSV."""
    page = list_postmortems(
        session,
        filters=incident_filter(request),
        actor=actor,
        sort=request.query_params.get("sort") or "newest",
        limit=CSV_LIMIT,
    )
    return Response(
        incidents_csv(page.items, str(request.base_url).rstrip("/")),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="incidents.csv"'},
    )
