"""Search the postmortems someone may see: the query syntax checked, filters checked, one page of
ranked hits with snippets and facet counts (the engines are storage/search/'s business)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from hindsight.domain.access import Actor
from hindsight.domain.search import (
    FACETS,
    QuerySyntaxError,
    SearchQuery,
    SearchResults,
    parse_query,
    to_text,
)
from hindsight.errors import InvalidInputError
from hindsight.storage import search as engine

MAX_LIMIT = 100
TOTAL_BOUND = engine.TOTAL_BOUND  # hits counted exactly, and paged, up to this many
FACET_LABELS = {
    "service": "Service",
    "severity": "Severity",
    "status": "Status",
    "review": "Review",
    "category": "Factor category",
    "tag": "Tag",
    "year": "Year",
    "open_actions": "Open action items",
    "recurring": "Recurring",
}


@dataclass(frozen=True)
class SearchPage:
    """What a search shows: the results, the query as read, and suggestions when nothing
    matched (each a query or filter change that would find something, or advice)."""

    results: SearchResults
    query: str
    filters: dict[str, list[str]]
    suggestions: list[str] = field(default_factory=list)


def check_filters(filters: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """Facet filters with unknown facet names refused, empty values dropped."""
    checked: dict[str, list[str]] = {}
    for name, values in filters.items():
        if name not in FACETS:
            raise InvalidInputError(
                f"filter {name!r} is not a facet; use one of {', '.join(FACETS)}"
            )
        kept = [value for value in values if value]
        wrong = [v for v in kept if name == "open_actions" and v not in ("yes", "no")]
        if wrong:
            raise InvalidInputError(f"filter open_actions: {wrong[0]!r} is not yes or no")
        if name == "recurring" and any(v != "yes" for v in kept):
            raise InvalidInputError(
                "filter recurring: only 'yes' (incidents linked as a recurrence) is accepted"
            )
        if kept:
            checked[name] = kept
    return checked


def read_query(text: str) -> SearchQuery:
    """The parsed query, or InvalidInputError naming the problem (never an engine error)."""
    try:
        return parse_query(text)
    except QuerySyntaxError as error:
        raise InvalidInputError(f"query: {error}") from None


def _suggestions(
    session: Session,
    query: SearchQuery,
    filters: dict[str, list[str]],
    actor: Actor | None,
    include_archived: bool,
) -> list[str]:
    """Ways out of an empty result, each checked to find something, then general advice."""
    found: list[str] = []

    def finds(candidate: SearchQuery, with_filters: dict[str, list[str]], archived: bool) -> bool:
        results = engine.search(
            session,
            candidate,
            actor=actor,
            filters=with_filters,
            limit=1,
            include_archived=archived,
            facet_limit=0,
        )
        return results.total > 0

    if filters and finds(query, {}, include_archived):
        found.append("Remove the filters: the words match elsewhere.")
    if query.excluded and finds(SearchQuery(query.groups), filters, include_archived):
        found.append(f"Drop the excluded words: {to_text(SearchQuery(query.groups))}")
    either = SearchQuery((tuple(term for group in query.groups for term in group),))
    if len(either.groups[0]) > 1 and finds(either, filters, include_archived):
        found.append(f"Match any of the words: {to_text(either)}")
    if not include_archived and finds(query, filters, True):
        found.append("Include archived incidents: some match.")
    return [*found, "Check the spelling, or try a shorter or more general word."]


def search_postmortems(
    session: Session,
    *,
    query: str,
    actor: Actor | None,
    filters: Mapping[str, Sequence[str]] | None = None,
    limit: int = 20,
    offset: int = 0,
    include_archived: bool = False,
) -> SearchPage:
    """Ranked postmortems `actor` may see matching `query` (words, "phrases", OR, -word)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInputError(f"limit: must be between 1 and {MAX_LIMIT}, not {limit}")
    if offset < 0:
        raise InvalidInputError(f"offset: must be zero or more, not {offset}")
    if offset >= TOTAL_BOUND:
        raise InvalidInputError(
            f"offset: results are paged up to the first {TOTAL_BOUND:,}, not from "
            f"{offset:,}; narrow the query or add filters to reach the others"
        )
    parsed = read_query(query)
    checked = check_filters(filters or {})
    results = engine.search(
        session,
        parsed,
        actor=actor,
        filters=checked,
        limit=limit,
        offset=offset,
        include_archived=include_archived,
    )
    suggestions = (
        _suggestions(session, parsed, checked, actor, include_archived)
        if results.total == 0
        else []
    )
    return SearchPage(results, to_text(parsed), checked, suggestions)
