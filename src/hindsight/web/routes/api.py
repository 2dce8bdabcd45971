"""The JSON API under /api/v1: everything the UI does, for scripts, with token auth.

Errors are JSON: {"error": {"message": ..., "field": ..., "current_version": ...}}.

The routes live in one `api_<resource>` module each; this module puts them together in the
order they are matched and builds the API application.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI

from hindsight.web.api_errors import install_api_errors
from hindsight.web.deps import verify_hook_token
from hindsight.web.routes import (
    api_accounts,
    api_docs,
    api_history,
    api_incidents,
    api_insights,
    api_reports,
    api_reviews,
    candidates,
)
from hindsight.web.routes.api_common import ACTOR, ERRORS, api_actor
from hindsight.web.routes.imports import hooks

__all__ = ["ACTOR", "ERRORS", "api_actor", "create_api", "router"]

router = APIRouter()
for module in (api_incidents, api_history, api_reports, api_reviews, api_accounts):
    router.include_router(module.router)
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
