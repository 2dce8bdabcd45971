"""SQLite's side of search: the FTS5 MATCH expression (the words only in the parts' columns,
visibility and facet filters as words of the `tokens` column, storage/search_index.py) and one
scan of its hits newest first, which counts them, scores the newest RANK_WINDOW with bm25 and
reads the hits past them."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from hindsight.domain.search import SearchQuery, to_fts5
from hindsight.storage.db import refuse_nul
from hindsight.storage.search.access import FLAG_TOKENS, Access, exact_recurring
from hindsight.storage.search_index import PART_NAMES, PARTS, facet_token
from hindsight.storage.visibility import linked_to_visible

BM25 = (
    "bm25(search_fts, " + ", ".join(str(weight) for _, weight, _ in PARTS) + ", 0.0)"
)  # the tokens column (filters, not words) weighs nothing
# Hits ranked by score: a query with more hits ranks its newest this many and lists the rest
# after them, newest first. Scoring costs ~3-5 microseconds a hit (bm25 reads each row's
# column sizes), and for a phrase bm25 first counts the phrase's hits in the whole index, once
# a statement: at 100,000 incidents a common word has 50,000 hits.
RANK_WINDOW = 2000
PARTS_COLUMNS = "{" + " ".join(PART_NAMES) + "}"
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
    """The MATCH expression of one search and what it cannot say: the hits it finds that
    this reader may not see (flagged and not a member), so one FTS5 scan answers the count,
    the ranking and the pages alike."""

    def __init__(
        self, query: SearchQuery, access: Access, filters: Mapping[str, Sequence[str]]
    ) -> None:
        narrowed = "".join(
            " AND " + _any_token([facet_token(facet, v) for v in values])
            for facet, values in sorted(filters.items())
            if values
        )
        never = [FLAG_TOKENS[f] for f in access.never]
        words = words_match(query) + narrowed
        # Hits flagged restricted (or archived, when asked for) are found too, and the ones
        # of incidents the reader is not a member of are dropped by id (`hidden`).
        self.match = f"({words}) NOT {_any_token(never)}" if never else words
        flagged = [FLAG_TOKENS[f] for f in access.unless_member]
        self.flagged = _any_token(flagged) if flagged else ""
        self.access = access
        # What the tokens cannot say for this reader: "recurring" means linked to an incident
        # the reader may see, checked in SQL on the incidents whose token says "linked".
        self.within = [linked_to_visible(access.actor)] if exact_recurring(access, filters) else []


@dataclass(frozen=True)
class Seen:
    """Which of the MATCH's hits the reader may see: none of `hidden`, and (when `kept` is
    given) only those in it."""

    hidden: frozenset[int]
    kept: frozenset[int] | None

    def __call__(self, rowid: int) -> bool:
        return rowid not in self.hidden and (self.kept is None or rowid in self.kept)


def _driver_rows(session: Session, sql: str, parameters: tuple[Any, ...]) -> Any:
    """The rows of `sql` from the driver's own cursor, in the session's transaction: a scan
    of 2,000 hits through SQLAlchemy's result rows cost a quarter more than FTS5 took to
    find and score them (about 1 microsecond a row)."""
    refuse_nul(parameters)
    connection = session.connection().connection.driver_connection
    assert connection is not None
    return connection.execute(sql, parameters)


def seen_by(session: Session, fts: Fts) -> Seen:
    """The ids a search must drop for its reader: the flagged incidents (a few thousand ids,
    read from their token) the reader is not a member of; and the ids `within` allows. Read
    here rather than in the MATCH: SQLite hands `rowid IN (…)` to FTS5, which then runs the
    whole MATCH once per id (seconds for a reader who is a member of 1,000 incidents)."""
    hidden: frozenset[int] = frozenset()
    if fts.flagged:
        sql = "SELECT rowid FROM search_fts WHERE search_fts MATCH ?"
        flagged = (rowid for (rowid,) in _driver_rows(session, sql, (fts.flagged,)))
        members = session.scalars(fts.access.members()) if fts.access.actor else ()
        hidden = frozenset(flagged) - frozenset(members)
    kept: frozenset[int] | None = None
    for ids in fts.within:
        found = frozenset(session.scalars(ids))
        kept = found if kept is None else kept & found
    return Seen(hidden, kept)


def newest_hits(
    session: Session,
    fts: Fts,
    seen: Seen,
    limit: int,
    *,
    scored: bool = True,
    before: int | None = None,
) -> list[tuple[int, float]]:
    """The `limit` newest hits the reader may see, (rowid, score) newest first (older than
    `before` if given): FTS5 reads its matches newest first and the scan stops there, so
    bm25 is computed for those rows only."""
    score = f"-{BM25}" if scored else "0.0"
    older = " AND rowid < ?" if before is not None else ""
    sql = f"SELECT rowid, {score} FROM search_fts WHERE search_fts MATCH ?{older}"
    sql += " ORDER BY rowid DESC"
    found: list[tuple[int, float]] = []
    if limit <= 0:
        return found
    parameters = (fts.match,) if before is None else (fts.match, before)
    rows = _driver_rows(session, sql, parameters)
    try:
        for rowid, value in rows:
            if seen(rowid):
                found.append((rowid, float(value)))
                if len(found) == limit:
                    break
    finally:
        rows.close()
    return found


def sqlite_ranked(
    session: Session, fts: Fts, bound: int
) -> tuple[int, list[tuple[int, float]], Callable[[set[int], int, int], list[tuple[int, float]]]]:
    """The hits counted up to `bound` (`bound` + 1 past it), the ranked candidates best first
    (every hit up to RANK_WINDOW, past it the newest RANK_WINDOW), and how to read the hits
    past them: one scan newest first, scored as it goes."""
    seen = seen_by(session, fts)
    hits = newest_hits(session, fts, seen, max(bound, RANK_WINDOW) + 1)
    candidates = hits[:RANK_WINDOW]
    ranked = sorted(candidates, key=lambda pair: (-pair[1], -pair[0]))
    oldest = candidates[-1][0] if candidates else None

    def rest(_ranked: set[int], skip: int, count: int) -> list[tuple[int, float]]:
        """Hits past the ranked ones (all older than them), newest first, without a score:
        `count` after `skip`."""
        if oldest is None:
            return []
        older = newest_hits(session, fts, seen, skip + count, scored=False, before=oldest)
        return older[skip:]

    return min(len(hits), bound + 1), ranked, rest
