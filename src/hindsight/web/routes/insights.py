"""The Insights dashboard: trends across the incidents the viewer may see, each chart with a
table view and a CSV download."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from markupsafe import Markup

from hindsight.domain.access import Actor
from hindsight.domain.incidents import Severity
from hindsight.errors import HindsightError, NotFoundError
from hindsight.rendering.insight_charts import build_charts, chart_csv, chart_svg
from hindsight.services.database import Session
from hindsight.services.incidents import utc_now
from hindsight.services.insights import InsightFilter, gather_insights
from hindsight.web.deps import SESSION, page_actor, render

router = APIRouter()


def default_start(today: dt.date) -> dt.date:
    """The first day of the month eleven months back: twelve calendar months with this one."""
    months = today.year * 12 + today.month - 1 - 11
    return dt.date(months // 12, months % 12 + 1, 1)


def parse_day(value: str | None, name: str) -> dt.date | None:
    """A date from a query value, or a clear error naming the field."""
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise HindsightError(f"{name}: '{value}' is not a date like 2024-03-05") from None


def insight_filter(
    start: str | None,
    end: str | None,
    service: str | None,
    team: str | None,
    severities: list[str],
    today: dt.date,
) -> InsightFilter:
    """The filter of a query; with no `from`, the last twelve calendar months."""
    return InsightFilter(
        start=parse_day(start, "from") or (None if end else default_start(today)),
        end=parse_day(end, "to"),
        service=service or None,
        team=team or None,
        severities=severities,
    )


def _filter_of(request: Request) -> InsightFilter:
    params = request.query_params
    return insight_filter(
        params.get("from"),
        params.get("to"),
        params.get("service"),
        params.get("team"),
        params.getlist("severity"),
        utc_now().date(),
    )


@router.get("/insights")
async def insights_page(
    request: Request, actor: Actor = Depends(page_actor), session: Session = SESSION
) -> Response:
    """Incidents, response times, causes and follow-through over time."""
    error = ""
    try:
        filters = _filter_of(request)
        insights = gather_insights(session, filters=filters, actor=actor)
    except HindsightError as problem:
        error = str(problem)
        filters = insight_filter(None, None, None, None, [], utc_now().date())
        insights = gather_insights(session, filters=filters, actor=actor)
    charts = build_charts(insights)
    query = str(request.url.query)
    return render(
        request,
        "insights.html",
        {
            "insights": insights,
            "charts": [(chart, Markup(chart_svg(chart))) for chart in charts],
            "filters": request.query_params,
            "start": filters.start,
            "end": filters.end,
            "severities": [s.value for s in Severity],
            "error": error,
            "query": ("?" + query) if query else "",
        },
        status=400 if error else 200,
    )


@router.get("/insights/{slug}.csv")
async def insights_csv(
    slug: str, request: Request, actor: Actor = Depends(page_actor), session: Session = SESSION
) -> Response:
    """One chart's numbers as CSV, with the page's filters."""
    insights = gather_insights(session, filters=_filter_of(request), actor=actor)
    chart = next((c for c in build_charts(insights) if c.slug == slug), None)
    if chart is None:
        raise NotFoundError(f"no chart called '{slug}'")
    return Response(
        chart_csv(chart),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{slug}.csv"'},
    )
