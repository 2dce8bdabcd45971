"""Full-text search over the index (storage/search_index.py): the one place that knows the two
engines. SQLite: FTS5 with bm25 and column weights. PostgreSQL: a weighted `tsvector`, GIN
index, `websearch_to_tsquery`, `ts_rank_cd` and `ts_headline`.

Queries arrive parsed (domain/search.py) and are rendered here for the engine, as bound
parameters: no text a person typed reaches FTS5 MATCH or a tsquery unparsed. Visibility is
storage/visibility.py's rule, applied to hits, totals and facet counts alike.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
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
from hindsight.storage.search_index import (
    ARCHIVED_TOKEN,
    HEAD_PARTS,
    PART_NAMES,
    PARTS,
    RESTRICTED_TOKEN,
    facet_token,
    facets,
)
from hindsight.storage.visibility import linked_to_visible, member_of, sees_everything

_BM25 = (
    "bm25(search_fts, " + ", ".join(str(weight) for _, weight, _ in PARTS) + ", 0.0)"
)  # the tokens column (filters, not words) weighs nothing
_TSQUERY = "websearch_to_tsquery('english'::regconfig, :match)"
_HEADLINE_OPTIONS = (
    f"StartSel={MATCH_START}, StopSel={MATCH_END}, MaxWords=30, MinWords=12, ShortWord=0"
)
MAX_SNIPPETS = 3
# Facets count every hit up to this many; past it, the best this many by rank (counting tens
# of thousands of hits' facet rows costs more than the whole rest of a search).
FACET_WINDOW = 1000
# Hits ranked by score, per engine: a query with more hits ranks this many candidates, drawn
# newest first from the hits that match in the parts that weigh most (HEAD_PARTS; then from
# the others if there are too few), and lists the rest after them, newest first. Scoring
# costs ~2.5 microseconds a hit on SQLite and ~20 (the tsvector is read from TOAST) on
# PostgreSQL: at 100,000 incidents a common word has 50,000 hits.
RANK_WINDOW = {"sqlite": 2000, "postgresql": 500}
_PARTS_COLUMNS = "{" + " ".join(PART_NAMES) + "}"
_HEAD_COLUMNS = "{" + " ".join(HEAD_PARTS) + "}"


def _is_sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


@dataclass(frozen=True)
class _Access:
    """Which index flags hide a hit: `never` from this reader, `unless_member` unless the
    reader is a member of its incident (restricted incidents; archived ones when asked for)."""

    never: tuple[str, ...]
    unless_member: tuple[str, ...]
    actor: Actor | None

    @classmethod
    def of(cls, actor: Actor | None, *, include_archived: bool) -> _Access:
        never = () if include_archived else ("archived",)
        if sees_everything(actor):
            return cls(never, (), actor)
        return cls(never, ("restricted", *(("archived",) if include_archived else ())), actor)

    def members(self) -> Select[Any]:
        assert self.actor is not None
        return member_of(self.actor)


_TOKENS = {"restricted": RESTRICTED_TOKEN, "archived": ARCHIVED_TOKEN}


def _exact_recurring(access: _Access, filters: Mapping[str, Sequence[str]]) -> bool:
    return bool(filters.get("recurring")) and not sees_everything(access.actor)


def _any_token(tokens: Sequence[str]) -> str:
    return "(tokens : (" + " OR ".join(f'"{t}"' for t in tokens) + "))"


def _fts_positive(query: SearchQuery) -> str:
    return to_fts5(SearchQuery(query.groups))


class _Fts:
    """SQLite: the MATCH expressions of one search (the words only in the parts' columns,
    visibility and facet filters as `tokens` words), so each count or scan is FTS5's alone."""

    def __init__(
        self, query: SearchQuery, access: _Access, filters: Mapping[str, Sequence[str]]
    ) -> None:
        words = f"({_PARTS_COLUMNS} : ({to_fts5(query)}))"
        for facet, values in sorted(filters.items()):
            if values:
                words += " AND " + _any_token([facet_token(facet, v) for v in values])
        hidden = [_TOKENS[f] for f in (*access.never, *access.unless_member)]
        self.public = f"({words}) NOT {_any_token(hidden)}" if hidden else words
        self.member = ""
        if access.unless_member:
            member = f"({words}) AND {_any_token([_TOKENS[f] for f in access.unless_member])}"
            never = [_TOKENS[f] for f in access.never]
            self.member = f"({member}) NOT {_any_token(never)}" if never else member
        self.head = f"({_HEAD_COLUMNS} : ({_fts_positive(query)}))"
        self.access = access
        # What the tokens cannot say for this reader: "recurring" means linked to an incident
        # the reader may see, checked in SQL on the incidents whose token says "linked".
        self.within = [linked_to_visible(access.actor)] if _exact_recurring(access, filters) else []


def _fts_rows(
    session: Session,
    match: str,
    *,
    within: Sequence[Select[Any]] = (),
    tail: str = "",
    scored: bool = True,
) -> list[tuple[int, float]]:
    """(rowid, score) of the FTS5 matches of `match`, with `tail` (ORDER BY, LIMIT) after;
    of those, only the ids each of `within` selects.

    `within` is applied here, not in SQL: SQLite hands `rowid IN (…)` to FTS5, which then
    runs the whole MATCH once per id (seconds for a reader who is a member of 1,000
    incidents), while each of these id sets is small."""
    score = f"-{_BM25}" if scored else "0.0"
    sql = f"SELECT rowid, {score} AS score FROM search_fts WHERE search_fts MATCH :match{tail}"
    rows = [(int(i), float(score)) for i, score in session.execute(sa.text(sql), {"match": match})]
    for ids in within:
        kept = set(session.scalars(ids))
        rows = [row for row in rows if row[0] in kept]
    return rows


def _fts_member_rows(session: Session, fts: _Fts) -> list[tuple[int, float]]:
    if not fts.member:
        return []
    return _fts_rows(session, fts.member, within=[fts.access.members(), *fts.within])


def _fts_count(session: Session, fts: _Fts) -> tuple[int, list[tuple[int, float]]]:
    """How many hits the reader may see, and the scored hits of the member part: FTS5 counts
    the public ones from its index alone (unless a filter needs a check in SQL, on the few
    incidents its token already found)."""
    if fts.within:
        total = len(_fts_rows(session, fts.public, within=fts.within, scored=False))
    else:
        count = "SELECT count(*) FROM search_fts WHERE search_fts MATCH :match"
        total = int(session.scalar(sa.text(count), {"match": fts.public}) or 0)
    member = _fts_member_rows(session, fts)
    return total + len(member), member


def _sqlite_ranked(
    session: Session, fts: _Fts, total: int, member: list[tuple[int, float]]
) -> tuple[list[tuple[int, float]], set[int]]:
    """The ranked candidates, best first, and their ids (see RANK_WINDOW)."""
    bound = RANK_WINDOW["sqlite"]
    if total - len(member) <= bound:
        public = _fts_rows(session, fts.public, within=fts.within)
    else:
        newest = f" ORDER BY rowid DESC LIMIT {bound}"
        public = _fts_rows(
            session, f"({fts.public}) AND {fts.head}", within=fts.within, tail=newest
        )
        if len(public) < bound:
            rest = f" ORDER BY rowid DESC LIMIT {bound - len(public)}"
            public += _fts_rows(
                session, f"({fts.public}) NOT {fts.head}", within=fts.within, tail=rest
            )
    ranked = sorted(public + member, key=lambda pair: (-pair[1], -pair[0]))
    return ranked, {i for i, _ in public + member}


def _sqlite_rest(
    session: Session, fts: _Fts, ranked: set[int], skip: int, count: int
) -> list[tuple[int, float]]:
    """Hits past the ranked candidates, newest first (no score): `count` after `skip`."""
    rows = _fts_rows(
        session, fts.public, within=fts.within, tail=" ORDER BY rowid DESC", scored=False
    )
    rest = [pair for pair in rows if pair[0] not in ranked]
    return rest[skip : skip + count]


_pg_documents = sa.table(
    "search_documents",
    sa.column("incident_id", sa.Integer),
    sa.column("restricted", sa.Boolean),
    sa.column("archived", sa.Boolean),
)


def _tsquery(value: str, name: str) -> ColumnElement[Any]:
    return sa.func.websearch_to_tsquery(
        sa.literal_column("'english'::regconfig"), sa.bindparam(name, value, sa.Text)
    )


class _Pg:
    """PostgreSQL: the conditions of one search on `search_documents` (the GIN-indexed
    `document`, visibility from the row's flags and the reader's memberships, facet filters
    from `search_facets`), and its score."""

    def __init__(
        self, query: SearchQuery, access: _Access, filters: Mapping[str, Sequence[str]]
    ) -> None:
        docs = _pg_documents.c
        self.matches = sa.literal_column("search_documents.document").bool_op("@@")(
            _tsquery(to_websearch(query), "match")
        )
        self.conditions: list[ColumnElement[bool]] = [self.matches]
        if access.never:
            self.conditions.append(sa.not_(docs.archived))
        if access.unless_member:
            flagged = sa.or_(*(docs[flag] for flag in access.unless_member))
            self.conditions.append(sa.not_(flagged) | docs.incident_id.in_(access.members()))
        for facet, values in sorted(filters.items()):
            if values:
                having = sa.select(facets.c.incident_id).where(
                    facets.c.facet == facet, facets.c.value.in_(list(values))
                )
                self.conditions.append(docs.incident_id.in_(having))
        if _exact_recurring(access, filters):
            self.conditions.append(docs.incident_id.in_(linked_to_visible(access.actor)))
        self.head = sa.literal_column("search_documents.head").bool_op("@@")(
            _tsquery(to_websearch(SearchQuery(query.groups)), "head")
        )
        self.score = sa.func.ts_rank_cd(
            sa.literal_column("search_documents.document"),
            _tsquery(to_websearch(query), "score_match"),
            1,
            type_=sa.Float,
        ).label("score")


def _pg_count(session: Session, pg: _Pg) -> int:
    counted = sa.select(sa.func.count()).select_from(_pg_documents).where(*pg.conditions)
    return int(session.scalar(counted) or 0)


def _pg_ids(session: Session, pg: _Pg, *extra: ColumnElement[bool], limit: int) -> list[int]:
    """Newest first, without reading a `tsvector` from TOAST."""
    docs = _pg_documents.c
    select = sa.select(docs.incident_id).where(*pg.conditions, *extra)
    return list(session.scalars(select.order_by(docs.incident_id.desc()).limit(limit)))


def _pg_ranked(
    session: Session, pg: _Pg, total: int, window: int
) -> tuple[list[tuple[int, float]], set[int]]:
    """The ranked candidates, best first, and their ids (see RANK_WINDOW)."""
    docs = _pg_documents.c
    bound = RANK_WINDOW["postgresql"]
    order = (pg.score.desc(), docs.incident_id.desc())
    if total <= bound:
        select = sa.select(docs.incident_id, pg.score).where(*pg.conditions)
        rows = session.execute(select.order_by(*order).limit(max(window, bound))).all()
        return [(int(i), float(s)) for i, s in rows], {int(i) for i, _ in rows}
    ids = _pg_ids(session, pg, pg.head, limit=bound)
    if len(ids) < bound:
        ids += _pg_ids(session, pg, sa.not_(pg.head), limit=bound - len(ids))
    select = sa.select(docs.incident_id, pg.score).where(docs.incident_id.in_(ids))
    rows = session.execute(select.order_by(*order)).all()
    return [(int(i), float(s)) for i, s in rows], set(ids)


def _pg_rest(
    session: Session, pg: _Pg, ranked: set[int], skip: int, count: int
) -> list[tuple[int, float]]:
    """Hits past the ranked candidates, newest first (no score): `count` after `skip`."""
    docs = _pg_documents.c
    select = (
        sa.select(docs.incident_id)
        .where(*pg.conditions, docs.incident_id.not_in(list(ranked)))
        .order_by(docs.incident_id.desc())
        .offset(skip)
        .limit(count)
    )
    return [(int(i), 0.0) for i in session.scalars(select)]


def _count_facets(
    session: Session, ids: Sequence[int], facet_limit: int, actor: Actor | None
) -> dict[str, list[tuple[str, int]]]:
    """Facet counts over `ids`; "recurring" counted for this reader (the index's row says only
    that a link exists, maybe to an incident the reader may not see)."""
    count = sa.func.count().label("n")
    query = (
        sa.select(facets.c.facet, facets.c.value, count)
        .where(facets.c.incident_id.in_(list(ids)), facets.c.facet != "recurring")
        .group_by(facets.c.facet, facets.c.value)
    )
    found: dict[str, list[tuple[str, int]]] = {}
    for facet, value, n in session.execute(query):
        found.setdefault(facet, []).append((value, int(n)))
    linked = sa.select(facets.c.incident_id).where(
        facets.c.incident_id.in_(list(ids)), facets.c.facet == "recurring"
    )
    if not sees_everything(actor):
        linked = linked.where(facets.c.incident_id.in_(linked_to_visible(actor)))
    recurring = int(session.scalar(sa.select(sa.func.count()).select_from(linked.subquery())) or 0)
    if recurring:
        found["recurring"] = [("yes", recurring)]
    for facet, values in found.items():
        if facet == "year":
            values.sort(reverse=True)
        else:
            values.sort(key=lambda pair: (-pair[1], pair[0]))
        found[facet] = values[:facet_limit]
    return found


# ts_headline re-reads the whole text it is given (a timeline runs to thousands of words), so
# it gets the part only if a query word's start is in it, and then only the text around the
# first one: a snippet is MaxWords=30 words.
_HEADLINE_AROUND = 240


def _prefix(word: str) -> str:
    """What any word the stemmer takes for `word` starts with (it only cuts endings)."""
    return word[: max(min(len(word), 3), len(word) - 3)]


def _pg_headlines(session: Session, query: SearchQuery, ids: Sequence[int]) -> list[Any]:
    prefixes = sorted({_prefix(word) for word in query.words()})
    params: dict[str, Any] = {
        "match": to_websearch(query),
        "options": _HEADLINE_OPTIONS,
        "ids": list(ids),
        **{f"p{n}": prefix for n, prefix in enumerate(prefixes)},
    }
    parts = []
    for name in PART_NAMES:
        found = ", ".join(f"nullif(strpos(lower({name}), :p{n}), 0)" for n in range(len(prefixes)))
        around = (
            f"substr({name}, greatest(1, least({found}) - {_HEADLINE_AROUND}), "
            f"{2 * _HEADLINE_AROUND})"
        )
        parts.append(
            f"CASE WHEN least({found}) IS NOT NULL THEN ts_headline('english'::regconfig, "
            f"replace({around}, '<', '<' || chr({ord(NOT_A_TAG)})), q, :options) END"
        )
    sql = (
        f"SELECT incident_id, {', '.join(parts)} FROM search_documents, {_TSQUERY} AS q "
        "WHERE incident_id IN :ids"
    )
    statement = sa.text(sql).bindparams(sa.bindparam("ids", expanding=True))
    return list(session.execute(statement, params))


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
        match = f"{_PARTS_COLUMNS} : ({to_fts5(query)})"
        marks = {"match": match, "start": MATCH_START, "end": MATCH_END}
        rows = [row for i in ids for row in session.execute(sa.text(sql), {**marks, "id": i})]
    else:
        rows = _pg_headlines(session, query, ids)
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

    Steps: count the hits the reader may see (from the index alone); rank them all, or past
    RANK_WINDOW a bounded candidate set (see there); the page from the ranked hits, or past
    them from the rest newest first; the page's details and marked snippets; facet counts
    over the best FACET_WINDOW ranked hits (fewer, on PostgreSQL, past its RANK_WINDOW)."""
    access = _Access.of(actor, include_archived=include_archived)
    window = max(FACET_WINDOW, offset + limit)
    rest: Callable[[set[int], int, int], list[tuple[int, float]]]
    if _is_sqlite(session):
        fts = _Fts(query, access, filters or {})
        total, member = _fts_count(session, fts)
        ranked, ids = _sqlite_ranked(session, fts, total, member) if total else ([], set())
        rest = partial(_sqlite_rest, session, fts)
    else:
        pg = _Pg(query, access, filters or {})
        total = _pg_count(session, pg)
        ranked, ids = _pg_ranked(session, pg, total, window) if total else ([], set())
        rest = partial(_pg_rest, session, pg)
    page = ranked[offset : offset + limit]
    if len(page) < limit and offset + len(page) < total:
        # Past the ranked candidates: the rest, newest first.
        page += rest(ids, max(0, offset - len(ranked)), limit - len(page))
    details = _details(session, [i for i, _ in page])
    snippets = _snippets(session, query, [i for i, _ in page])
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
            snippets=snippets.get(i, ()),
        )
        for i, score in page
    ]
    counted_ids = [i for i, _ in ranked[:FACET_WINDOW]]
    counts = (
        _count_facets(session, counted_ids, facet_limit, actor)
        if counted_ids and facet_limit
        else {}
    )
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


def _word_matches(session: Session, word: str, bind: str) -> sa.Subquery:
    """The ids of the indexed incidents with `word` (any reader, archived too)."""
    if _is_sqlite(session):
        sql = f"SELECT rowid AS incident_id FROM search_fts WHERE search_fts MATCH :{bind}"
        match = f'{_PARTS_COLUMNS} : "{word}"'
    else:
        sql = f"SELECT incident_id FROM search_documents WHERE document @@ {_TSQUERY}"
        sql = sql.replace(":match", f":{bind}")
        match = word
    return sa.text(sql).bindparams(**{bind: match}).columns(incident_id=sa.Integer).subquery()


def _document_counts(session: Session, words: Sequence[str]) -> list[int]:
    """How many incidents have each word (counted up to _DF_CAP: past it, just "common"),
    in one statement."""
    counts = []
    for n, word in enumerate(words):
        matched = _word_matches(session, word, f"word{n}")
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
    access = _Access.of(actor, include_archived=False)
    wanted = limit + len(exclude_ids)
    if _is_sqlite(session):
        fts = _Fts(parsed, access, {})
        best = f" ORDER BY score DESC, rowid DESC LIMIT {wanted}"
        rows = _fts_rows(session, fts.public, tail=best) + _fts_member_rows(session, fts)
    else:
        pg = _Pg(parsed, access, {})
        docs = _pg_documents.c
        select = sa.select(docs.incident_id, pg.score).where(*pg.conditions)
        ordered = select.order_by(pg.score.desc(), docs.incident_id.desc()).limit(wanted)
        rows = [(int(i), float(s)) for i, s in session.execute(ordered)]
    excluded = set(exclude_ids)
    kept = sorted((pair for pair in rows if pair[0] not in excluded), key=lambda p: (-p[1], -p[0]))
    return kept[:limit]
