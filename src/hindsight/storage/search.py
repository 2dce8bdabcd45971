"""Full-text search over the index (storage/search_index.py): the one place that knows the two
engines. SQLite: FTS5 with bm25 and column weights. PostgreSQL: a weighted `tsvector`, GIN
index, `websearch_to_tsquery`, `ts_rank_cd` and `ts_headline`.

Queries arrive parsed (domain/search.py) and are rendered here for the engine, as bound
parameters: no text a person typed reaches FTS5 MATCH or a tsquery unparsed. Visibility is
storage/visibility.py's rule, applied to hits, totals and facet counts alike.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import ColumnElement, Select
from sqlalchemy.orm import Session

from hindsight.domain.access import Actor
from hindsight.domain.search import (
    MATCH_END,
    MATCH_START,
    NOT_A_TAG,
    SearchHit,
    SearchQuery,
    SearchResults,
    Snippet,
    any_of_words,
    split_marked,
    to_fts5,
    to_websearch,
)
from hindsight.storage.models import IncidentRow
from hindsight.storage.search_index import PART_NAMES, PARTS, facets
from hindsight.storage.visibility import member_of, sees_everything, where_visible

_BM25 = "bm25(search_fts, " + ", ".join(str(weight) for _, weight, _ in PARTS) + ")"
_TSQUERY = "websearch_to_tsquery('english'::regconfig, :match)"
_HEADLINE_OPTIONS = (
    f"StartSel={MATCH_START}, StopSel={MATCH_END}, MaxWords=30, MinWords=12, ShortWord=0"
)
MAX_SNIPPETS = 3


def _is_sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def _matches(session: Session, query: SearchQuery, *, scored: bool) -> sa.Subquery:
    """(incident_id[, score]) of every indexed incident matching `query`; higher scores rank
    first (bm25 is negated so both engines agree on the direction)."""
    if _is_sqlite(session):
        score = f", -{_BM25} AS score" if scored else ""
        sql = f"SELECT rowid AS incident_id{score} FROM search_fts WHERE search_fts MATCH :match"
        match = to_fts5(query)
    else:
        score = ", ts_rank_cd(document, q, 1) AS score" if scored else ""
        sql = (
            f"SELECT incident_id{score} FROM search_documents, {_TSQUERY} AS q WHERE document @@ q"
        )
        match = to_websearch(query)
    columns: dict[str, Any] = {"incident_id": sa.Integer}
    if scored:
        columns["score"] = sa.Float
    return sa.text(sql).bindparams(match=match).columns(**columns).subquery("matched")


def _readable(select: Select[Any], actor: Actor | None, *, include_archived: bool) -> Select[Any]:
    """What `actor` may see, archived incidents only if asked (and then only those an admin or
    a member may open, as services/incidents.visible_to says)."""
    select = where_visible(select, actor)
    if not include_archived:
        return select.where(IncidentRow.archived_at.is_(None))
    if not sees_everything(actor):
        assert actor is not None
        select = select.where(
            IncidentRow.archived_at.is_(None) | IncidentRow.id.in_(member_of(actor))
        )
    return select


def _facet_filters(filters: Mapping[str, Sequence[str]]) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    for facet, values in sorted(filters.items()):
        if values:
            having = sa.select(facets.c.incident_id).where(
                facets.c.facet == facet, facets.c.value.in_(list(values))
            )
            conditions.append(IncidentRow.id.in_(having))
    return conditions


def _count_facets(
    session: Session, ids: Select[Any], facet_limit: int
) -> dict[str, list[tuple[str, int]]]:
    count = sa.func.count().label("n")
    query = (
        sa.select(facets.c.facet, facets.c.value, count)
        .where(facets.c.incident_id.in_(ids))
        .group_by(facets.c.facet, facets.c.value)
    )
    found: dict[str, list[tuple[str, int]]] = {}
    for facet, value, n in session.execute(query):
        found.setdefault(facet, []).append((value, int(n)))
    for facet, values in found.items():
        if facet == "year":
            values.sort(reverse=True)
        else:
            values.sort(key=lambda pair: (-pair[1], pair[0]))
        found[facet] = values[:facet_limit]
    return found


def _snippets(
    session: Session, query: SearchQuery, ids: Sequence[int]
) -> dict[int, tuple[Snippet, ...]]:
    """For each id, the marked text of up to MAX_SNIPPETS parts that matched, best part first."""
    if not ids:
        return {}
    id_list = ", ".join(str(int(i)) for i in ids)  # integers from our own query, not user text
    if _is_sqlite(session):
        parts = ", ".join(
            f"snippet(search_fts, {n}, :start, :end, '…', 16)" for n in range(len(PART_NAMES))
        )
        sql = (
            f"SELECT rowid, {parts} FROM search_fts WHERE search_fts MATCH :match "
            f"AND rowid IN ({id_list})"
        )
        params = {"match": to_fts5(query), "start": MATCH_START, "end": MATCH_END}
    else:
        parts = ", ".join(
            f"ts_headline('english'::regconfig, "
            f"replace(coalesce({name}, ''), '<', '<' || chr({ord(NOT_A_TAG)})), q, :options)"
            for name in PART_NAMES
        )
        sql = (
            f"SELECT incident_id, {parts} FROM search_documents, {_TSQUERY} AS q "
            f"WHERE incident_id IN ({id_list})"
        )
        params = {"match": to_websearch(query), "options": _HEADLINE_OPTIONS}
    found: dict[int, tuple[Snippet, ...]] = {}
    for row in session.execute(sa.text(sql), params):
        marked = [
            Snippet(name, split_marked(text.replace(NOT_A_TAG, "").strip()))
            for name, text in zip(PART_NAMES, row[1:], strict=True)
            if text and MATCH_START in text
        ]
        found[int(row[0])] = tuple(marked[:MAX_SNIPPETS])
    return found


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
) -> SearchResults:
    """A ranked page of the incidents `actor` may see that match `query` and the facet
    `filters` (facet name → accepted values), with the total and facet counts over all hits.

    Steps: match in the engine's index; join the incident rows and narrow them by visibility,
    archive and facets; count; fetch one page by score; count facets over every hit; mark
    the page's snippets."""
    conditions = _facet_filters(filters or {})
    unscored = _matches(session, query, scored=False)
    ids = _readable(
        sa.select(IncidentRow.id).join(unscored, unscored.c.incident_id == IncidentRow.id),
        actor,
        include_archived=include_archived,
    ).where(*conditions)
    total = int(session.scalar(sa.select(sa.func.count()).select_from(ids.subquery())) or 0)
    scored = _matches(session, query, scored=True)
    page_query = _readable(
        sa.select(
            IncidentRow.id,
            IncidentRow.key,
            IncidentRow.title,
            IncidentRow.severity,
            IncidentRow.status,
            IncidentRow.review_status,
            IncidentRow.visibility,
            IncidentRow.created_at,
            IncidentRow.archived_at,
            scored.c.score,
        ).join(scored, scored.c.incident_id == IncidentRow.id),
        actor,
        include_archived=include_archived,
    ).where(*conditions)
    rows = session.execute(
        page_query.order_by(
            scored.c.score.desc(), IncidentRow.created_at.desc(), IncidentRow.id.desc()
        )
        .limit(limit)
        .offset(offset)
    ).all()
    snippets = _snippets(session, query, [row.id for row in rows])
    hits = [
        SearchHit(
            incident_id=row.id,
            key=row.key,
            title=row.title,
            severity=row.severity,
            status=row.status,
            review_status=row.review_status,
            visibility=row.visibility,
            created_at=row.created_at,
            archived=row.archived_at is not None,
            score=float(row.score),
            snippets=snippets.get(row.id, ()),
        )
        for row in rows
    ]
    counts = _count_facets(session, ids, facet_limit) if total else {}
    return SearchResults(hits=hits, total=total, limit=limit, offset=offset, facets=counts)


def match_ids(
    session: Session,
    query: str,
    *,
    actor: Actor | None,
    limit: int,
    exclude_ids: Collection[int] = (),
) -> list[tuple[int, float]]:
    """Incident ids and lexical scores (higher is better) of the incidents `actor` may see
    matching ANY word of `query` (plain text, not query syntax), best first; archived
    incidents and `exclude_ids` left out. For similar-incident lookups."""
    parsed = any_of_words(query)
    if parsed is None or limit <= 0:
        return []
    scored = _matches(session, parsed, scored=True)
    select = _readable(
        sa.select(IncidentRow.id, scored.c.score).join(
            scored, scored.c.incident_id == IncidentRow.id
        ),
        actor,
        include_archived=False,
    )
    if exclude_ids:
        select = select.where(IncidentRow.id.not_in(list(exclude_ids)))
    rows = session.execute(
        select.order_by(scored.c.score.desc(), IncidentRow.id.desc()).limit(limit)
    )
    return [(int(row.id), float(row.score)) for row in rows]
