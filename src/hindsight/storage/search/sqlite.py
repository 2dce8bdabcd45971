"""SQLite's side of search: FTS5 MATCH expressions (the words only in the parts' columns,
visibility and facet filters as words of the `tokens` column, storage/search_index.py), the
count, bm25 over a bounded candidate set, and the hits past it."""

from __future__ import annotations

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


def _any_token(tokens: Sequence[str]) -> str:
    return "(tokens : (" + " OR ".join(f'"{t}"' for t in tokens) + "))"


def words_match(query: SearchQuery) -> str:
    """The MATCH expression of `query`'s words, in the parts' columns only."""
    return f"({PARTS_COLUMNS} : ({to_fts5(query)}))"


class Fts:
    """The MATCH expressions of one search, so each count or scan is FTS5's alone."""

    def __init__(
        self, query: SearchQuery, access: Access, filters: Mapping[str, Sequence[str]]
    ) -> None:
        words = words_match(query)
        for facet, values in sorted(filters.items()):
            if values:
                words += " AND " + _any_token([facet_token(facet, v) for v in values])
        hidden = [FLAG_TOKENS[f] for f in (*access.never, *access.unless_member)]
        self.public = f"({words}) NOT {_any_token(hidden)}" if hidden else words
        self.member = ""
        if access.unless_member:
            member = f"({words}) AND {_any_token([FLAG_TOKENS[f] for f in access.unless_member])}"
            never = [FLAG_TOKENS[f] for f in access.never]
            self.member = f"({member}) NOT {_any_token(never)}" if never else member
        self.head = f"({_HEAD_COLUMNS} : ({to_fts5(SearchQuery(query.groups))}))"
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


def fts_count(session: Session, fts: Fts) -> tuple[int, list[tuple[int, float]]]:
    """How many hits the reader may see, and the scored hits of the member part: FTS5 counts
    the public ones from its index alone (unless a filter needs a check in SQL, on the few
    incidents its token already found)."""
    if fts.within:
        total = len(fts_rows(session, fts.public, within=fts.within, scored=False))
    else:
        count = "SELECT count(*) FROM search_fts WHERE search_fts MATCH :match"
        total = int(session.scalar(sa.text(count), {"match": fts.public}) or 0)
    member = fts_member_rows(session, fts)
    return total + len(member), member


def sqlite_ranked(
    session: Session, fts: Fts, total: int, member: list[tuple[int, float]]
) -> tuple[list[tuple[int, float]], set[int]]:
    """The ranked candidates, best first, and their ids (see RANK_WINDOW)."""
    bound = RANK_WINDOW
    if total - len(member) <= bound:
        public = fts_rows(session, fts.public, within=fts.within)
    else:
        newest = f" ORDER BY rowid DESC LIMIT {bound}"
        public = fts_rows(session, f"({fts.public}) AND {fts.head}", within=fts.within, tail=newest)
        if len(public) < bound:
            rest = f" ORDER BY rowid DESC LIMIT {bound - len(public)}"
            public += fts_rows(
                session, f"({fts.public}) NOT {fts.head}", within=fts.within, tail=rest
            )
    ranked = sorted(public + member, key=lambda pair: (-pair[1], -pair[0]))
    return ranked, {i for i, _ in public + member}


def sqlite_rest(
    session: Session, fts: Fts, ranked: set[int], skip: int, count: int
) -> list[tuple[int, float]]:
    """Hits past the ranked candidates, newest first (no score): `count` after `skip`."""
    rows = fts_rows(
        session, fts.public, within=fts.within, tail=" ORDER BY rowid DESC", scored=False
    )
    rest = [pair for pair in rows if pair[0] not in ranked]
    return rest[skip : skip + count]
