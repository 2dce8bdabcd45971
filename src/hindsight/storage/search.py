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
    Term,
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
# Facets count every hit up to this many; past it, the best this many by rank (counting tens
# of thousands of hits' facet rows costs more than the whole rest of a search).
FACET_WINDOW = 1000


def _is_sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def _matches(
    session: Session, query: SearchQuery, *, scored: bool, bind: str = "match"
) -> sa.Subquery:
    """(incident_id[, score]) of every indexed incident matching `query`; higher scores rank
    first (bm25 is negated so both engines agree on the direction)."""
    if _is_sqlite(session):
        score = f", -{_BM25} AS score" if scored else ""
        sql = f"SELECT rowid AS incident_id{score} FROM search_fts WHERE search_fts MATCH :{bind}"
        match = to_fts5(query)
    else:
        score = ", ts_rank_cd(document, q, 1) AS score" if scored else ""
        sql = (
            f"SELECT incident_id{score} FROM search_documents, "
            f"{_TSQUERY.replace(':match', ':' + bind)} AS q WHERE document @@ q"
        )
        match = to_websearch(query)
    columns: dict[str, Any] = {"incident_id": sa.Integer}
    if scored:
        columns["score"] = sa.Float
    return sa.text(sql).bindparams(**{bind: match}).columns(**columns).subquery("matched")


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
    session: Session, ids: Sequence[int], facet_limit: int
) -> dict[str, list[tuple[str, int]]]:
    count = sa.func.count().label("n")
    query = (
        sa.select(facets.c.facet, facets.c.value, count)
        .where(facets.c.incident_id.in_(list(ids)))
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
    if _is_sqlite(session):
        parts = ", ".join(
            f"snippet(search_fts, {n}, :start, :end, '…', 16)" for n in range(len(PART_NAMES))
        )
        # One row at a time: FTS5 looks `rowid = ?` up directly, while `rowid IN (…)` walks
        # every match of the query first.
        sql = f"SELECT rowid, {parts} FROM search_fts WHERE search_fts MATCH :match AND rowid = :id"
        marks = {"match": to_fts5(query), "start": MATCH_START, "end": MATCH_END}
        rows = [row for i in ids for row in session.execute(sa.text(sql), {**marks, "id": i})]
    else:
        parts = ", ".join(
            f"ts_headline('english'::regconfig, "
            f"replace(coalesce({name}, ''), '<', '<' || chr({ord(NOT_A_TAG)})), q, :options)"
            for name in PART_NAMES
        )
        sql = (
            f"SELECT incident_id, {parts} FROM search_documents, {_TSQUERY} AS q "
            "WHERE incident_id IN :ids"
        )
        statement = sa.text(sql).bindparams(sa.bindparam("ids", expanding=True))
        params: dict[str, Any] = {
            "match": to_websearch(query),
            "options": _HEADLINE_OPTIONS,
            "ids": list(ids),
        }
        rows = list(session.execute(statement, params))
    found: dict[int, tuple[Snippet, ...]] = {}
    for row in rows:
        marked = [
            Snippet(name, split_marked(text.replace(NOT_A_TAG, "").strip()))
            for name, text in zip(PART_NAMES, row[1:], strict=True)
            if text and MATCH_START in text
        ]
        found[int(row[0])] = tuple(marked[:MAX_SNIPPETS])
    return found


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
    `filters` (facet name → accepted values), with the total and facet counts.

    Steps: match in the engine's index, join the incidents and narrow them by visibility,
    archive and facets, and take the ids of the best FACET_WINDOW (or through the asked-for
    page, if further) by score; fewer than that is the total, else count them all; the
    page's details and marked snippets; facet counts over the window."""
    conditions = _facet_filters(filters or {})
    scored = _matches(session, query, scored=True)
    ranked = _readable(
        sa.select(IncidentRow.id, scored.c.score).join(
            scored, scored.c.incident_id == IncidentRow.id
        ),
        actor,
        include_archived=include_archived,
    ).where(*conditions)
    window = max(FACET_WINDOW, offset + limit)
    best = session.execute(
        ranked.order_by(scored.c.score.desc(), IncidentRow.id.desc()).limit(window)
    ).all()
    total = len(best)
    if total == window:
        unscored = _matches(session, query, scored=False)
        counted = _readable(
            sa.select(IncidentRow.id).join(unscored, unscored.c.incident_id == IncidentRow.id),
            actor,
            include_archived=include_archived,
        ).where(*conditions)
        total = int(session.scalar(sa.select(sa.func.count()).select_from(counted.subquery())) or 0)
    page = best[offset : offset + limit]
    details = _details(session, [row.id for row in page])
    snippets = _snippets(session, query, [row.id for row in page])
    hits = [
        SearchHit(
            incident_id=row.id,
            key=details[row.id].key,
            title=details[row.id].title,
            severity=details[row.id].severity,
            status=details[row.id].status,
            review_status=details[row.id].review_status,
            visibility=details[row.id].visibility,
            created_at=details[row.id].created_at,
            archived=details[row.id].archived_at is not None,
            score=float(row.score),
            snippets=snippets.get(row.id, ()),
        )
        for row in page
    ]
    counted_ids = [row.id for row in best[:FACET_WINDOW]]
    counts = _count_facets(session, counted_ids, facet_limit) if counted_ids and facet_limit else {}
    return SearchResults(
        hits=hits,
        total=total,
        limit=limit,
        offset=offset,
        facets=counts,
        facets_over=len(counted_ids),
    )


# match_ids keeps the words of its text that fewest incidents have, as "more like this"
# searches do (Lucene's MoreLikeThis keeps the best terms by tf-idf): bm25 over an OR of
# every word of a paragraph costs (hits x words), and the common words, in nearly every
# incident, add almost nothing to the score.
SIMILAR_TERMS = 12
_DF_CAP = 1000


def _document_counts(session: Session, words: Sequence[str]) -> list[int]:
    """How many incidents have each word (counted up to _DF_CAP: past it, just "common"),
    in one statement."""
    counts = []
    for n, word in enumerate(words):
        one = SearchQuery(((Term((word,)),),))
        matched = _matches(session, one, scored=False, bind=f"word{n}")
        capped = sa.select(matched.c.incident_id).limit(_DF_CAP).subquery(f"capped{n}")
        counts.append(sa.select(sa.func.count()).select_from(capped).scalar_subquery())
    row = session.execute(sa.select(*counts)).one()
    return [int(value or 0) for value in row]


def _distinctive(session: Session, query: SearchQuery) -> SearchQuery | None:
    """The query's words, or of many, the SIMILAR_TERMS fewest incidents have (words in
    _DF_CAP incidents or more only if no rarer word is left)."""
    words = query.words()
    if len(words) > SIMILAR_TERMS:
        counts = _document_counts(session, words)
        found = [i for i in range(len(words)) if counts[i]]
        rare = [i for i in found if counts[i] < _DF_CAP] or found
        best = sorted(rare, key=lambda i: (counts[i], i))[:SIMILAR_TERMS]
        words = [words[i] for i in sorted(best)]
    return SearchQuery((tuple(Term((w,)) for w in words),)) if words else None


def match_ids(
    session: Session,
    query: str,
    *,
    actor: Actor | None,
    limit: int,
    exclude_ids: Collection[int] = (),
) -> list[tuple[int, float]]:
    """Incident ids and lexical scores (higher is better) of the incidents `actor` may see
    matching ANY of the words of `query` (plain text, not query syntax) — of a long text, the
    SIMILAR_TERMS words fewest incidents have — best first; archived incidents and
    `exclude_ids` left out. For similar-incident lookups."""
    words = any_of_words(query)
    parsed = _distinctive(session, words) if words is not None and limit > 0 else None
    if parsed is None:
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
