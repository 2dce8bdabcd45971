"""`create_app(settings)`: the web UI. For now: the incident list and each postmortem, read-only."""

from __future__ import annotations

import math
from pathlib import Path

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from fastapi.templating import Jinja2Templates

from hindsight import __version__
from hindsight.config import Settings
from hindsight.errors import NotFoundError
from hindsight.services.database import Database, open_database
from hindsight.services.documents import DocumentFormat, export_postmortem, render_body_html
from hindsight.services.incidents import get_postmortem, list_postmortems

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
PAGE_SIZE = 50


def create_app(settings: Settings, database: Database | None = None) -> FastAPI:
    """Build the application for `settings` (the database is opened and migrated here)."""
    db = database or open_database(settings.resolved_database_url())
    app = FastAPI(title="Hindsight", version=__version__, docs_url=None, redoc_url=None)

    @app.get("/", response_class=HTMLResponse)
    def incident_list(request: Request, page: int = Query(1, ge=1)) -> Response:
        with db.transaction() as session:
            result = list_postmortems(session, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        pages = max(1, math.ceil(result.total / PAGE_SIZE))
        return TEMPLATES.TemplateResponse(
            request, "list.html", {"page": result, "number": page, "pages": pages}
        )

    @app.get("/incidents/{key}", response_class=HTMLResponse)
    def incident_page(request: Request, key: str) -> Response:
        try:
            with db.transaction() as session:
                stored = get_postmortem(session, key=key)
        except NotFoundError as error:
            raise HTTPException(status_code=404, detail=str(error)) from None
        context = {
            "stored": stored,
            "pm": stored.postmortem,
            "body": render_body_html(stored.postmortem),
        }
        return TEMPLATES.TemplateResponse(request, "postmortem.html", context)

    @app.get("/incidents/{key}/export.{suffix}")
    def incident_export(key: str, suffix: str) -> Response:
        formats = {"md": DocumentFormat.MARKDOWN, "json": DocumentFormat.JSON}
        if suffix not in formats:
            raise HTTPException(status_code=404, detail="export as .md or .json")
        try:
            with db.transaction() as session:
                text = export_postmortem(session, key=key, fmt=formats[suffix])
        except NotFoundError as error:
            raise HTTPException(status_code=404, detail=str(error)) from None
        media = "text/markdown" if suffix == "md" else "application/json"
        return PlainTextResponse(text, media_type=f"{media}; charset=utf-8")

    @app.get("/healthz")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


def app_from_environment() -> FastAPI:
    """Factory for `uvicorn --factory` and multi-worker serving: settings from the environment."""
    return create_app(Settings())
