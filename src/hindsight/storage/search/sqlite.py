"""SQLite's side of search: FTS5 MATCH expressions (the words only in the parts' columns,
visibility and facet filters as words of the `tokens` column, storage/search_index.py), the
count, bm25 over a bounded candidate set, and the hits past it."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Select
from sqlalchemy.orm import Session

from hindsight.domain.search import SearchQuery, to_fts5
from hindsight.storage.search.access import FLAG_TOKENS, Access, exact_recurring
from hindsight.storage.search_index import HEAD_PARTS, PART_NAMES, PARTS, facet_token
from hindsight.storage.visibility import linked_to_visible

BM25 = (
    "bm25(search_fts, " + ", ".join(str(weight) for _, weight, _ in PARTS) + ", 0.0)"
)  # the tokens column (filters, not words) weighs nothing
# Hits ranked by score: a query with more hits ranks this many candidates, drawn newest first
# from the hits that match in the parts that weigh most (HEAD_PARTS; then from the others if
# there are too few), and lists the rest after them, newest first. Scoring costs ~2.5
# microseconds a hit: at 100,000 incidents a common word has 50,000 hits.
RANK_WINDOW = 2000
PARTS_COLUMNS = "{" + " ".join(PART_NAMES) + "}"
_HEAD_COLUMNS = "{" + " ".join(HEAD_PARTS) + "}"
_TOKEN_LIKE = re.compile(r"f[0-9a-f]{16}")


def _any_token(tokens: Sequence[str]) -> str:
    return "(tokens : (" + " OR ".join(f'"{t}"' for t in tokens) + "))"


def _may_reach_tokens(query: SearchQuery) -> bool:
    """Whether a word of `query` could be read by FTS5 as a `tokens` word (facet_token: "f"
    and 16 hex digits, then "0"): told conservatively, on the word folded further than FTS5
    folds it (compatibility forms, accents, case) and anywhere in it (FTS5 may split it)."""
    terms = [term for group in query.groups for term in group] + list(query.excluded)
    for word in (word for term in terms for word in term.words):
        folded = "".join(
            c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c)
        )
        if _TOKEN_LIKE.search(folded.casefold()):
            return True
    return False


def words_match(query: SearchQuery, columns: str = PARTS_COLUMNS) -> str:
    """The MATCH expression of `query`'s words in the parts' columns (`columns`) only; with
    no column filter for all the parts when no word could match in `tokens` (the filter makes
    FTS5 read which column each hit is in: a third of the time of a count)."""
    if columns == PARTS_COLUMNS and not _may_reach_tokens(query):
        return f"({to_fts5(query)})"
    return f"({columns} : ({to_fts5(query)}))"


class Fts:
    """The MATCH expressions of one search, so each count or scan is FTS5's alone."""

    def __init__(
        self, query: SearchQuery, access: Access, filters: Mapping[str, Sequence[str]]
    ) -> None:
        narrowed = "".join(
            " AND " + _any_token([facet_token(facet, v) for v in values])
            for facet, values in sorted(filters.items())
            if values
        )
        hidden = [FLAG_TOKENS[f] for f in (*access.never, *access.unless_member)]
        only = [FLAG_TOKENS[f] for f in access.unless_member]
        never = [FLAG_TOKENS[f] for f in access.never]

        def public(words: str) -> str:
            return f"({words}{narrowed}) NOT {_any_token(hidden)}" if hidden else words + narrowed

        self.public = public(words_match(query))
        self.member = ""
        if access.unless_member:
            member = f"({words_match(query)}{narrowed}) AND {_any_token(only)}"
            self.member = f"({member}) NOT {_any_token(never)}" if never else member
        # Both the words and the head match (bm25 scores every phrase of the expression, so
        # asking for the head match alone would rank differently).
        head = words_match(SearchQuery(query.groups), _HEAD_COLUMNS)
        self.head = f"({self.public}) AND {head}"
        self.access = access
        # What the tokens cannot say for this reader: "recurring" means linked to an incident
        # the reader may see, checked in SQL on the incidents whose token says "linked".
        self.within = [linked_to_visible(access.actor)] if exact_recurring(access, filters) else []


def fts_rows(
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
    score = f"-{BM25}" if scored else "0.0"
    sql = f"SELECT rowid, {score} AS score FROM search_fts WHERE search_fts MATCH :match{tail}"
    rows = [(int(i), float(score)) for i, score in session.execute(sa.text(sql), {"match": match})]
    for ids in within:
        kept = set(session.scalars(ids))
        rows = [row for row in rows if row[0] in kept]
    return rows


def fts_member_rows(session: Session, fts: Fts) -> list[tuple[int, float]]:
    """The scored hits only members may see, of the incidents the reader is a member of."""
    if not fts.member:
        return []
    return fts_rows(session, fts.member, within=[fts.access.members(), *fts.within])


def fts_count(session: Session, fts: Fts, bound: int) -> tuple[int, list[tuple[int, float]]]:
    """How many public hits the reader may see, counted up to `bound` (past it, `bound` + 1:
    FTS5 stops reading there), and the scored hits of the member part: FTS5 counts the
    public ones from its index alone (unless a filter needs a check in SQL, on the few
    incidents its token already found)."""
    if fts.within:
        total = min(bound + 1, len(fts_rows(session, fts.public, within=fts.within, scored=False)))
    else:
        count = (
            "SELECT count(*) FROM (SELECT rowid FROM search_fts WHERE search_fts MATCH :match "
            "LIMIT :limit)"
        )
        total = int(session.scalar(sa.text(count), {"match": fts.public, "limit": bound + 1}) or 0)
    return total, fts_member_rows(session, fts)


def _newest_others(
    session: Session, fts: Fts, head: set[int], count: int
) -> list[tuple[int, float]]:
    """The `count` newest scored matches not in `head`, which holds every head match (fewer
    than the bound): read newest first and stopped there, rather than asking FTS5 for the
    matches that are NOT head matches (a second pass over the query's terms). With `within`
    (which `head` was narrowed by), the latter, as before."""
    if fts.within:
        rest = f" ORDER BY rowid DESC LIMIT {count}"
        return fts_rows(session, f"({fts.public}) NOT {fts.head}", within=fts.within, tail=rest)
    sql = f"SELECT rowid, -{BM25} FROM search_fts WHERE search_fts MATCH :match ORDER BY rowid DESC"
    found: list[tuple[int, float]] = []
    result = session.execute(sa.text(sql), {"match": fts.public})
    try:
        for i, score in result:
            if i not in head:
                found.append((int(i), float(score)))
                if len(found) == count:
                    break
    finally:
        result.close()
    return found


def sqlite_ranked(
    session: Session, fts: Fts, public_count: int, member: list[tuple[int, float]]
) -> tuple[list[tuple[int, float]], set[int]]:
    """The ranked candidates, best first, and their ids (see RANK_WINDOW); `public_count` is
    the number of public hits, exact up to RANK_WINDOW."""
    bound = RANK_WINDOW
    if public_count <= bound:
        public = fts_rows(session, fts.public, within=fts.within)
    else:
        newest = f" ORDER BY rowid DESC LIMIT {bound}"
        public = fts_rows(session, fts.head, within=fts.within, tail=newest)
        if len(public) < bound:
            public += _newest_others(session, fts, {i for i, _ in public}, bound - len(public))
    ranked = sorted(public + member, key=lambda pair: (-pair[1], -pair[0]))
    return ranked, {i for i, _ in public + member}


def sqlite_rest(
    session: Session, fts: Fts, ranked: set[int], skip: int, count: int
) -> list[tuple[int, float]]:
    """Hits past the ranked candidates, newest first (no score): `count` after `skip`, read
    newest first and stopped there."""
    read = "" if fts.within else f" LIMIT {skip + count + len(ranked)}"
    rows = fts_rows(
        session, fts.public, within=fts.within, tail=" ORDER BY rowid DESC" + read, scored=False
    )
    rest = [pair for pair in rows if pair[0] not in ranked]
    return rest[skip : skip + count]
