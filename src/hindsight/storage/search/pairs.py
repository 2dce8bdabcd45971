"""PostgreSQL's two-word phrases from the index (migration 0025): a GIN index of
`search_pairs(document)`, every pair of lexemes at adjacent positions in the document
("node pool" → 'node pool'). GIN does not keep positions, so a phrase's matches were the
rows holding its words, each read from TOAST to check where they stand: "node pool" at
100,000 incidents read about 4,500 `tsvector`s to count to 1,001. A phrase of two lexemes at
adjacent positions matches exactly the documents whose pairs hold that pair, computed from
the same `tsvector` (positions past 16,383 and the 256 kept per lexeme included), so such a
phrase becomes its words (exact in GIN) and its pair (exact in GIN): no row is read to count
it. A second index, of `search_pairs(head)`, finds the ranking's head candidates the same way
(the phrase in the title, summary, analysis or lessons). Longer phrases, or ones with a stop
word inside ('a' <2> 'b'), are checked as before."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import ColumnElement
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from hindsight.domain.search import SearchQuery, Term
from hindsight.storage.search.access import is_sqlite

FUNCTION = "search_pairs"
# The pairs of the whole document, and of `head` (the first parts, where the ranking's
# candidates are looked for first).
INDEXES = {"document": "ix_search_documents_pairs", "head": "ix_search_documents_head_pairs"}
# What the planner is told one call costs (in cpu_operator_cost units; a SQL function's
# default is 100). It unnests a whole `tsvector`, ~0.7 ms a row at 100,000 incidents: priced
# as a default function, the planner sometimes counted "node pool" by computing it for each
# row holding both words instead of reading its index (2.6 s against 45 ms), depending on how
# recently the GIN indexes were built and what ANALYZE sampled.
COST = 100_000
# Each lexeme and position, in position order, beside the next one: a pair where the next
# position is this one plus one. Lexemes never hold a space (the parser splits on it).
_BODY = """
SELECT coalesce(array_agg(DISTINCT lexeme || ' ' || next_lexeme), '{}')
FROM (
    SELECT u.lexeme, p.position,
           lead(u.lexeme) OVER (ORDER BY p.position) AS next_lexeme,
           lead(p.position) OVER (ORDER BY p.position) AS next_position
    FROM pg_catalog.unnest(document) AS u(lexeme, positions, weights),
         pg_catalog.unnest(u.positions) AS p(position)
) AS ordered
WHERE next_position = position + 1
"""


def create_pairs_index(connection: Connection) -> None:
    """Migration 0025, PostgreSQL: the function and the GIN index of its value (nothing is
    stored in the rows). Nothing on SQLite."""
    if connection.dialect.name != "postgresql":
        return
    connection.execute(
        sa.text(
            f"CREATE FUNCTION {FUNCTION}(document tsvector) RETURNS text[] "
            f"LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE COST {COST} AS $${_BODY}$$"
        )
    )
    for column, index in INDEXES.items():
        connection.execute(
            sa.text(f"CREATE INDEX {index} ON search_documents USING GIN ({FUNCTION}({column}))")
        )


def drop_pairs_index(connection: Connection) -> None:
    """Migration 0025's downgrade."""
    if connection.dialect.name != "postgresql":
        return
    for index in INDEXES.values():
        connection.execute(sa.text(f"DROP INDEX IF EXISTS {index}"))
    connection.execute(sa.text(f"DROP FUNCTION IF EXISTS {FUNCTION}(tsvector)"))


@dataclass(frozen=True)
class Decided:
    """The query with each two-word phrase that is a group of its own written as its words
    (`query`), the pairs those phrases need (`pairs`, one a phrase), and whether those
    phrases were all the query had to match (`only_pairs`: then the pairs alone decide)."""

    query: SearchQuery
    pairs: tuple[str, ...] = ()
    only_pairs: bool = False


def _alone(query: SearchQuery) -> list[Term]:
    return [group[0] for group in query.groups if len(group) == 1 and group[0].is_phrase]


def decide_phrases(session: Session, query: SearchQuery) -> Decided:
    """`query` with its phrases that a pair decides written as their words, and those pairs:
    each phrase's own `tsvector` says whether it is two lexemes at adjacent positions (one
    statement for all of them; none without such a phrase). Nothing on SQLite, whose FTS5
    index keeps positions."""
    phrases = _alone(query)
    if not phrases or is_sqlite(session):
        return Decided(query)
    texts = [" ".join(term.words) for term in phrases]
    rows = session.execute(
        sa.text(
            f"SELECT t.n, {FUNCTION}(v.document), "
            "(SELECT count(*) FROM unnest(v.document) AS u(lexeme, positions, weights), "
            "unnest(u.positions)) "
            "FROM unnest(CAST(:phrases AS text[])) WITH ORDINALITY AS t(phrase, n), "
            "LATERAL to_tsvector('english'::regconfig, t.phrase) AS v(document)"
        ),
        {"phrases": texts},
    )
    decided: dict[str, str] = {}
    for n, pairs, positions in rows:
        if len(pairs) == 1 and positions == 2:
            decided[texts[int(n) - 1]] = pairs[0]
    if not decided:
        return Decided(query)
    groups: list[tuple[Term, ...]] = []
    others = 0
    for group in query.groups:
        text = " ".join(group[0].words)
        if len(group) == 1 and group[0].is_phrase and text in decided:
            groups += [(Term((word,)),) for word in group[0].words]
        else:
            groups.append(group)
            others += 1
    rewritten = SearchQuery(tuple(groups), query.excluded)
    return Decided(rewritten, tuple(decided.values()), only_pairs=not others)


def has_pairs(pairs: Sequence[str], column: str) -> ColumnElement[bool]:
    """The rows whose `column` ("document" or "head") holds every one of `pairs`: the array
    as a scalar subquery, so that the planner, which keeps statistics of the indexed
    expression, never chooses to compute it for every row instead of reading the index."""
    value: Any = sa.bindparam(f"pairs_{column}", list(pairs), ARRAY(sa.Text))
    needed = sa.select(value).scalar_subquery()
    vector: Any = sa.literal_column(f"search_documents.{column}")
    return sa.func.search_pairs(vector).op("@>")(needed)
