"""`match_ids`: the best lexical matches of a plain text, for similar-incident lookups.

It keeps the words of its text that fewest incidents have, as "more like this" searches do
(Lucene's MoreLikeThis keeps the best terms by tf-idf): bm25 over an OR of every word of a
paragraph costs (hits x words), and the common words, in nearly every incident, add almost
nothing to the score."""

from __future__ import annotations

from collections.abc import Collection, Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hindsight.domain.access import Actor
from hindsight.domain.search import SearchQuery, Term, any_of_words
from hindsight.storage.search.access import Access, is_sqlite
from hindsight.storage.search.postgres import TSQUERY, Pg, documents
from hindsight.storage.search.sqlite import PARTS_COLUMNS, Fts, fts_member_rows, fts_rows

SIMILAR_TERMS = 12
_DF_CAP = 1000


def _word_matches(session: Session, word: str, bind: str) -> sa.Subquery:
    """The ids of the indexed incidents with `word` (any reader, archived too)."""
    if is_sqlite(session):
        sql = f"SELECT rowid AS incident_id FROM search_fts WHERE search_fts MATCH :{bind}"
        match = f'{PARTS_COLUMNS} : "{word}"'
    else:
        # The tsquery as a subquery, so the planner takes the GIN index (postgres._matching).
        sql = f"SELECT incident_id FROM search_documents WHERE document @@ (SELECT {TSQUERY})"
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
    access = Access.of(actor, include_archived=False)
    wanted = limit + len(exclude_ids)
    if is_sqlite(session):
        fts = Fts(parsed, access, {})
        best = f" ORDER BY score DESC, rowid DESC LIMIT {wanted}"
        rows = fts_rows(session, fts.public, tail=best) + fts_member_rows(session, fts)
    else:
        pg = Pg(parsed, access, {}, planned=False)
        docs = documents.c
        select = sa.select(docs.incident_id, pg.score).where(*pg.conditions)
        ordered = select.order_by(pg.score.desc(), docs.incident_id.desc()).limit(wanted)
        rows = [(int(i), float(s)) for i, s in session.execute(ordered)]
    excluded = set(exclude_ids)
    kept = sorted((pair for pair in rows if pair[0] not in excluded), key=lambda p: (-p[1], -p[0]))
    return kept[:limit]
