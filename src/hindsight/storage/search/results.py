"""One search, step by step: count, rank, the page, its details and snippets, facet counts."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hindsight.domain.access import Actor
from hindsight.domain.search import SearchHit, SearchQuery, SearchResults
from hindsight.storage.models import IncidentRow
from hindsight.storage.search import postgres
from hindsight.storage.search.access import Access, is_sqlite, plan_each_search
from hindsight.storage.search.facets import count_facets
from hindsight.storage.search.pairs import decide_phrases
from hindsight.storage.search.postgres import Pg, pg_count, pg_ranked, pg_rest
from hindsight.storage.search.snippets import snippets
from hindsight.storage.search.sqlite import Fts, sqlite_ranked

# Facets count every hit up to this many; past it, the best this many by rank (counting tens
# of thousands of hits' facet rows costs more than the whole rest of a search).
FACET_WINDOW = 1000
# Hits are counted exactly up to this many; past it the total says "more than TOTAL_BOUND"
# (`total_is_lower_bound`) and pages reach no further, as Elasticsearch's track_total_hits
# and max_result_window do. Counting every hit of a common word, or checking a phrase's
# positions in every incident that has its words, cost more than the rest of a search.
TOTAL_BOUND = 1_000


def _details(session: Session, ids: Sequence[int]) -> dict[int, Any]:
    columns = (
        IncidentRow.id,
        IncidentRow.key,
        IncidentRow.title,
        IncidentRow.severity,
        IncidentRow.status,
        IncidentRow.review_status,
        IncidentRow.visibility,
        IncidentRow.created_at,
        IncidentRow.archived_at,
    )
    rows = session.execute(sa.select(*columns).where(IncidentRow.id.in_(list(ids))))
    return {row.id: row for row in rows}


Rest = Callable[[set[int], int, int], list[tuple[int, float]]]


def _ranked(
    session: Session,
    query: SearchQuery,
    access: Access,
    filters: Mapping[str, Sequence[str]],
    window: int,
    bound: int,
) -> tuple[int, list[tuple[int, float]], set[int], Rest]:
    """The total counted up to `bound` (`bound` + 1 past it), the ranked candidates best
    first and their ids, and how to read the rest. The count also tells whether all the hits
    fit the engine's RANK_WINDOW, so it is taken up to that at least: the ranking never
    depends on `bound`."""
    if is_sqlite(session):
        total, ranked, rest = sqlite_ranked(session, Fts(query, access, filters), bound)
        return total, ranked, {i for i, _ in ranked}, rest
    pg = Pg(query, access, filters, decide_phrases(session, query))
    counted = pg_count(session, pg, max(bound, postgres.RANK_WINDOW))
    total = min(counted, bound + 1)
    ranked, ids = pg_ranked(session, pg, counted, window) if total else ([], set())
    return total, ranked, ids, partial(pg_rest, session, pg)


def search(
    session: Session,
    query: SearchQuery,
    *,
    actor: Actor | None,
    filters: Mapping[str, Sequence[str]] | None = None,
    limit: int = 20,
    offset: int = 0,
    include_archived: bool = False,
    facet_limit: int = 10,
    total_bound: int | None = None,
) -> SearchResults:
    """A ranked page of the incidents `actor` may see that match `query` and the facet
    `filters` (facet name → accepted values), with the total and facet counts.

    Steps: count the hits the reader may see (from the index alone), up to `total_bound`
    (TOTAL_BOUND unless given; past it the total is the bound, and a lower bound); rank them
    all, or past the engine's RANK_WINDOW a bounded candidate set (see sqlite.RANK_WINDOW);
    the page from the ranked hits, or past them from the rest newest first, never past the
    bound; the page's details and marked snippets; facet counts over the best FACET_WINDOW
    ranked hits (fewer, on PostgreSQL, past its RANK_WINDOW)."""
    plan_each_search(session)
    access = Access.of(actor, include_archived=include_archived)
    total_bound = TOTAL_BOUND if total_bound is None else total_bound
    end = min(offset + limit, total_bound)
    window = max(FACET_WINDOW, end)
    total, ranked, ids, rest = _ranked(session, query, access, filters or {}, window, total_bound)
    is_lower_bound = total > total_bound
    total = min(total, total_bound)
    page = ranked[offset:end]
    if offset + len(page) < min(end, total):
        # Past the ranked candidates: the rest, newest first.
        wanted = min(end, total) - offset - len(page)
        page += rest(ids, max(0, offset - len(ranked)), wanted)
    details = _details(session, [i for i, _ in page])
    marked = snippets(session, query, [i for i, _ in page])
    hits = [
        SearchHit(
            incident_id=i,
            key=details[i].key,
            title=details[i].title,
            severity=details[i].severity,
            status=details[i].status,
            review_status=details[i].review_status,
            visibility=details[i].visibility,
            created_at=details[i].created_at,
            archived=details[i].archived_at is not None,
            score=score,
            snippets=marked.get(i, ()),
        )
        for i, score in page
    ]
    counted_ids = [i for i, _ in ranked[:FACET_WINDOW]]
    counts = (
        count_facets(session, counted_ids, facet_limit, actor)
        if counted_ids and facet_limit
        else {}
    )
    return SearchResults(
        hits=hits,
        total=total,
        total_is_lower_bound=is_lower_bound,
        limit=limit,
        offset=offset,
        facets=counts,
        facets_over=len(counted_ids),
    )
