"""Search: the results page `/search` and `GET /api/v1/search` (services/search.py)."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from hindsight.domain.access import Actor
from hindsight.domain.search import FACETS, SearchHit
from hindsight.errors import HindsightError
from hindsight.services.database import Session
from hindsight.services.search import (
    FACET_LABELS,
    TOTAL_BOUND,
    SearchPage,
    search_postmortems,
)
from hindsight.web.deps import SESSION, page_actor, render
from hindsight.web.routes.api import ACTOR, ERRORS

router = APIRouter()
api_router = APIRouter()
PAGE_SIZE = 20
_PART_LABELS = {
    "title": "Title",
    "summary": "Summary",
    "analysis": "Root cause analysis",
    "lessons": "Lessons",
    "actions": "Action items",
    "impact": "Impact",
    "response": "Response",
    "timeline": "Timeline",
    "comments": "Comments",
}


def _filters(request: Request) -> dict[str, list[str]]:
    """The facet filters in the query string: repeated `service=…`, `severity=…` …"""
    params = request.query_params
    return {name: params.getlist(name) for name in FACETS if params.getlist(name)}


@router.get("/search")
async def search_page(
    request: Request,
    actor: Actor = Depends(page_actor),
    session: Session = SESSION,
    q: str = "",
    page: int = Query(1, ge=1, le=100_000),
    archived: bool = False,
) -> Response:
    """Ranked results with snippets and facets; an explanation when empty or mistyped."""
    filters = _filters(request)
    result: SearchPage | None = None
    error = ""
    if q.strip():
        try:
            result = search_postmortems(
                session,
                query=q,
                actor=actor,
                filters=filters,
                limit=PAGE_SIZE,
                offset=(page - 1) * PAGE_SIZE,
                include_archived=archived,
            )
        except HindsightError as problem:
            error = str(problem)
    base = [("q", q)] + [(n, v) for n, vs in filters.items() for v in vs]
    base += [("archived", "true")] if archived else []

    def url(pairs: list[tuple[str, str]], number: int = 1) -> str:
        return "/search?" + urlencode(pairs + ([("page", str(number))] if number > 1 else []))

    def toggle(name: str, value: str) -> str:
        pair = (name, value)
        return url([p for p in base if p != pair] if pair in base else [*base, pair])

    total = result.results.total if result else 0
    context: dict[str, Any] = {
        "q": q,
        "result": result,
        "error": error,
        "filters": filters,
        "archived": archived,
        "number": page,
        "pages": max(1, math.ceil(total / PAGE_SIZE)),
        "page_url": lambda number: url(base, number),
        "toggle": toggle,
        "facet_labels": FACET_LABELS,
        "part_labels": _PART_LABELS,
    }
    return render(request, "search.html", context, status=400 if error else 200)


# -- the API ---------------------------------------------------------------------------------


class SegmentRead(BaseModel):
    text: str
    match: bool = Field(description="True for a matched word (shown highlighted).")


class SnippetRead(BaseModel):
    part: str = Field(description="Which part matched: " + ", ".join(_PART_LABELS) + ".")
    text: str = Field(description="The snippet as plain text.")
    segments: list[SegmentRead] = Field(description="The snippet cut at the matched words.")


class SearchHitRead(BaseModel):
    key: str
    title: str
    severity: str
    status: str
    review_status: str
    visibility: str
    created_at: dt.datetime
    archived: bool
    score: float = Field(description="Relevance; higher is better (comparable within a search).")
    snippets: list[SnippetRead]


class FacetValueRead(BaseModel):
    value: str
    count: int


class SearchRead(BaseModel):
    query: str = Field(description="The query as it was read (words, phrases, OR, -excluded).")
    total: int = Field(
        description="How many postmortems match; if `total_is_lower_bound`, more than this "
        f"many (hits are counted up to {TOTAL_BOUND:,}, and pages reach that far)."
    )
    total_is_lower_bound: bool = Field(
        description="True when more hits match than were counted: `total` is then the bound "
        f'({TOTAL_BOUND:,}), as Elasticsearch\'s `total.relation` "gte".'
    )
    limit: int
    offset: int
    items: list[SearchHitRead]
    facets: dict[str, list[FacetValueRead]] = Field(
        description="For each facet (" + ", ".join(FACETS) + "), values and how many hits "
        "have them, over all hits (not only this page)."
    )
    facets_over: int = Field(
        description="How many hits the facet counts cover: all of them (= total) up to "
        "1,000, else the 1,000 best ranked (a sample: say so when showing them)."
    )
    suggestions: list[str] = Field(description="When nothing matched: what might.")


def _hit(hit: SearchHit) -> SearchHitRead:
    snippets = [
        SnippetRead(
            part=s.part,
            text=s.text,
            segments=[SegmentRead(text=g.text, match=g.match) for g in s.segments],
        )
        for s in hit.snippets
    ]
    fields = ("key", "title", "severity", "status", "review_status", "visibility")
    return SearchHitRead(
        **{name: getattr(hit, name) for name in fields},
        created_at=hit.created_at,
        archived=hit.archived,
        score=hit.score,
        snippets=snippets,
    )


def search_read(page: SearchPage) -> SearchRead:
    """The API's form of a search page."""
    results = page.results
    return SearchRead(
        query=page.query,
        total=results.total,
        total_is_lower_bound=results.total_is_lower_bound,
        limit=results.limit,
        offset=results.offset,
        items=[_hit(hit) for hit in results.hits],
        facets={
            name: [FacetValueRead(value=v, count=n) for v, n in values]
            for name, values in results.facets.items()
        },
        facets_over=results.facets_over,
        suggestions=page.suggestions,
    )


@api_router.get("/search", response_model=SearchRead, responses=ERRORS)
async def search_api(
    q: str = Query(
        min_length=1,
        max_length=500,
        description='Words (all must match), "quoted phrases", OR, and -excluded words.',
    ),
    limit: int = Query(20, ge=1, le=100),
    offset: int = Query(
        0,
        ge=0,
        le=10_000_000,
        description=f"Results are paged up to the first {TOTAL_BOUND:,}: from there, a 400.",
    ),
    archived: bool = Query(False, description="Include archived incidents."),
    service: list[str] = Query([]),
    severity: list[str] = Query([]),
    status: list[str] = Query([]),
    review: list[str] = Query([]),
    category: list[str] = Query([], description="Contributing-factor category."),
    tag: list[str] = Query([]),
    year: list[str] = Query([]),
    open_actions: list[str] = Query([], description="`yes` or `no`."),
    recurring: list[str] = Query(
        [], description="`yes`: only incidents linked as a recurrence to one you may see."
    ),
    actor: Actor = ACTOR,
    session: Session = SESSION,
) -> SearchRead:
    """Ranked postmortems you may see, with snippets and facet counts, one page at a time
    (facet filters: repeat a name for any of several values)."""
    values = {
        "service": service,
        "severity": severity,
        "status": status,
        "review": review,
        "category": category,
        "tag": tag,
        "year": year,
        "open_actions": open_actions,
        "recurring": recurring,
    }
    page = search_postmortems(
        session,
        query=q,
        actor=actor,
        filters=values,
        limit=limit,
        offset=offset,
        include_archived=archived,
    )
    return search_read(page)
