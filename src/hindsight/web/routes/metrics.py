"""Metric evidence and computed impact on the page and in the API.

The page shows the series under the timeline and the computed numbers in the impact part with
an "accept" form; the API reads the impact report, accepts numbers, and imports series sent in
the body (CSV, JSON samples or a saved Prometheus answer). A live Prometheus query is made from
the CLI only: from the web it would let any editor make the server fetch any URL.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from markupsafe import Markup
from pydantic import BaseModel, Field

from hindsight.domain.access import Actor
from hindsight.domain.incidents import Postmortem
from hindsight.errors import InvalidInputError
from hindsight.importers.base import ImportOptions, Source
from hindsight.rendering.charts import metrics_svg
from hindsight.rendering.impact_rows import impact_rows
from hindsight.services.database import Session
from hindsight.services.metrics import (
    ROLES,
    accept_impact_numbers,
    impact_report,
    import_metrics,
    list_series,
    report_data,
    report_for,
)
from hindsight.web.deps import SESSION, page_actor

router = APIRouter()
api_router = APIRouter()


def metrics_context(session: Session, key: str, actor: Actor, pm: Postmortem) -> dict[str, Any]:
    """What the page shows of the metrics: the chart, the computed numbers, the impact rows."""
    series = list_series(session, key=key, actor=actor)
    report = report_for(pm, series)
    chart = metrics_svg(pm, [s.as_series() for s in series], report.estimate.windows)
    return {
        "metrics_chart": Markup(chart),
        "impact_report": report,
        "impact_rows": impact_rows(pm),
    }


@router.post("/incidents/{key}/impact/accept")
async def accept_page(
    request: Request, key: str, actor: Actor = Depends(page_actor), session: Session = SESSION
) -> Response:
    """Accept the checked computed numbers into the impact part."""
    form = await request.form()
    fields = [str(value) for value in form.getlist("field")]
    if not fields:
        raise InvalidInputError("field: check at least one computed number to accept")
    accept_impact_numbers(session, key=key, fields=fields, author=actor.username, actor=actor)
    return RedirectResponse(f"/incidents/{key}#sec-impact", status_code=303)


class AcceptBody(BaseModel):
    """Which computed numbers to accept (all of them when `fields` is null)."""

    fields: list[str] | None = None


class SeriesUpload(BaseModel):
    """A file of samples sent as text: `filename` says its format (.csv, else JSON)."""

    role: str = Field(description=f"What it measures: {', '.join(ROLES)}.")
    filename: str = Field("series.csv", max_length=200)
    content: str
    name: str = Field("", max_length=300, description="The series' name (default: the file's).")
    zone: str = Field("UTC", description="Zone of times written without one.")


def _api_actor() -> Any:
    # The API's authentication lives with the API's other routes; imported here, late, because
    # that module includes this router.
    from hindsight.web.routes.api import ACTOR

    return ACTOR


@api_router.get("/incidents/{key}/impact")
async def impact_read(
    key: str, actor: Actor = _api_actor(), session: Session = SESSION
) -> JSONResponse:
    """The impact computed from the series, key moments and participants, with formulas."""
    return JSONResponse(report_data(impact_report(session, key=key, actor=actor)))


@api_router.post("/incidents/{key}/impact/accept")
async def impact_accept(
    key: str, body: AcceptBody, actor: Actor = _api_actor(), session: Session = SESSION
) -> JSONResponse:
    """Copy computed numbers into the impact part, each with where it came from."""
    stored, numbers = accept_impact_numbers(
        session, key=key, fields=body.fields, author=actor.username, actor=actor
    )
    return JSONResponse(
        {"version": stored.version, "accepted": {n.field: n.value for n in numbers}}
    )


@api_router.post("/incidents/{key}/metrics")
async def metrics_import(
    key: str, body: SeriesUpload, actor: Actor = _api_actor(), session: Session = SESSION
) -> JSONResponse:
    """Import the series in the body into the incident (replacing those of the same name)."""
    try:
        options = ImportOptions(zone=body.zone)
    except ValueError as error:
        raise InvalidInputError(str(error)) from None
    summary = import_metrics(
        session,
        key=key,
        role=body.role,
        name=body.name,
        source=Source.from_bytes(body.filename, body.content.encode()),
        options=options,
        author=actor.username,
        actor=actor,
    )
    return JSONResponse(
        {
            "series": [
                {"id": s.id, "name": s.title, "role": s.role.value, "points": len(s.points)}
                for s in summary.series
            ],
            "replaced": summary.replaced,
            "windows": [
                {"start": w.start.isoformat(), "end": w.end.isoformat(), "basis": w.basis}
                for w in summary.estimate.windows
            ],
        }
    )
