"""PostgreSQL's side of search: the conditions of one search on `search_documents` (the
GIN-indexed `document`, visibility from the row's flags and the reader's memberships, facet
filters from the GIN-indexed `tokens` to count and `search_facets` to rank), the count,
`ts_rank_cd` over a bounded candidate set, and the hits past it."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from hindsight.domain.search import SearchQuery, has_phrases, loosened, to_websearch
from hindsight.storage.search.access import Access, among, exact_recurring, not_among
from hindsight.storage.search.pairs import Decided, has_pairs
from hindsight.storage.search.tokens import any_value
from hindsight.storage.search_index import facets
from hindsight.storage.visibility import linked_to_visible

TSQUERY = "websearch_to_tsquery('english'::regconfig, :match)"
# As in sqlite.RANK_WINDOW; scoring costs ~20 microseconds a hit here (the `tsvector` is read
# from TOAST).
RANK_WINDOW = 500

documents = sa.table(
    "search_documents",
    sa.column("incident_id", sa.Integer),
    sa.column("restricted", sa.Boolean),
    sa.column("archived", sa.Boolean),
)


def _tsquery(value: str, name: str) -> ColumnElement[Any]:
    return sa.func.websearch_to_tsquery(
        sa.literal_column("'english'::regconfig"), sa.bindparam(name, value, sa.Text)
    )


def _matching(
    column: str, value: str, name: str, *, table: str = "search_documents"
) -> ColumnElement[bool]:
    """`column @@ tsquery`, the tsquery as a scalar subquery: the planner then cannot read how
    many rows a word is in and takes the GIN index for every query. Given the tsquery itself,
    it chooses a sequential scan for a word in most rows (the heap is narrow, see
    search_index._add_head), and `@@` then reads every row's `tsvector` from TOAST (644 ms to
    count "deploy" at 100,000 incidents); and to find the newest head matches it walks the
    primary key backwards testing each row. Both are wrong here, as GIN answers a query of
    words exactly (no recheck) and a bitmap of 60,000 rows costs a few ms."""
    tsquery = sa.select(_tsquery(value, name)).scalar_subquery()
    return sa.literal_column(f"{table}.{column}").bool_op("@@")(tsquery)


# One tier of candidates: the conditions that find them (one GIN condition) and the checks
# each must pass.
Tier = tuple[list[ColumnElement[bool]], list[ColumnElement[bool]]]


class Pg:
    """The conditions of one search, and its score."""

    def __init__(
        self,
        query: SearchQuery,
        access: Access,
        filters: Mapping[str, Sequence[str]],
        decided: Decided | None = None,
    ) -> None:
        docs = documents.c
        # The query the documents are matched with: its two-word phrases, where a pair
        # decides them (storage/search/pairs.py), as their words and their pairs.
        decided = decided or Decided(query)
        exact = decided.query
        self.matches = _matching("document", to_websearch(exact), "match")
        self.pairs = [has_pairs(decided.pairs, "document")] if decided.pairs else []
        # The filters other than the words; a head match of a query without excluded words
        # is a match (`head` is the first parts of `document`, at the same positions).
        self.filters: list[ColumnElement[bool]] = []
        self.head_is_a_match = not query.excluded
        self.check = _checked(exact)
        if access.never:
            self.filters.append(sa.not_(docs.archived))
        if access.unless_member:
            flagged = sa.or_(*(docs[flag] for flag in access.unless_member))
            self.filters.append(sa.not_(flagged) | docs.incident_id.in_(access.members()))
        # Facet values: the count reads them from the GIN index of `tokens`
        # (storage/search/tokens.py), a bitmap ANDed with the words' (the join below made
        # the planner hash every hit of the words first: "outage" among SEV1 incidents
        # 25-28 → 8 ms at 100,000 incidents); the newest candidates, slice by slice, from
        # `search_facets` (with the tokens, each slice built a common value's bitmap again:
        # "users" with two common values 18-24 → 60-165 ms).
        counted = list(self.filters)
        for n, (facet, values) in enumerate(sorted(filters.items())):
            if values:
                counted.append(any_value(facet, list(values), f"facet_{n}"))
                having = sa.select(facets.c.incident_id).where(
                    facets.c.facet == facet, facets.c.value.in_(list(values))
                )
                self.filters.append(docs.incident_id.in_(having))
        if exact_recurring(access, filters):
            linked = docs.incident_id.in_(linked_to_visible(access.actor))
            self.filters.append(linked)
            counted.append(linked)
        self.conditions = [self.matches, *self.pairs, *self.filters]
        self.counted = [self.matches, *self.pairs, *counted]
        # Past the rank window the ranked candidates are the newest head matches, then the
        # newest other matches: each tier's candidates come from one GIN condition (with the
        # filters), and what that condition does not decide is checked row by row, newest
        # first, only until enough have passed (see _newest_of). With a phrase, GIN only
        # proposes rows and each one's `tsvector` would be read to check the positions (from
        # TOAST: 5-13 microseconds a row); a phrase a pair decides needs no check.
        exclusion = [] if self.head_is_a_match else [self.check]
        self.tiers: tuple[Tier, Tier]
        if not has_phrases(query):
            head = _matching("head", to_websearch(SearchQuery(query.groups)), "head")
            self.tiers = ([head], exclusion), ([self.matches], [])
        elif not has_phrases(exact):
            # Every phrase decided by its pairs: in `head` by the pairs of `head`.
            words = _matching(
                "head", to_websearch(SearchQuery(exact.groups)), "check_head", table="checked"
            )
            others = [] if decided.only_pairs else [words]
            pairs_only = [] if decided.only_pairs and self.head_is_a_match else [self.check]
            self.tiers = (
                ([has_pairs(decided.pairs, "head")], [*others, *exclusion]),
                (self.pairs, pairs_only),
            )
        else:
            loose_head = _matching("head", to_websearch(loosened(query)), "loose_head")
            phrases = _matching(
                "head", to_websearch(SearchQuery(query.groups)), "check_head", table="checked"
            )
            loose = _matching("document", to_websearch(loosened(exact)), "loose")
            self.tiers = ([loose_head], [phrases, *exclusion]), ([loose, *self.pairs], [self.check])
        self.score = sa.func.ts_rank_cd(
            sa.literal_column("search_documents.document"),
            _tsquery(to_websearch(query), "score_match"),
            1,
            type_=sa.Float,
        ).label("score")


def _checked(query: SearchQuery) -> ColumnElement[bool]:
    return _matching("document", to_websearch(query), "check", table="checked")


def pg_count(session: Session, pg: Pg, bound: int) -> int:
    """How many hits the reader may see, counted up to `bound` (past it, `bound` + 1): the
    bitmap from the GIN index is built whole, but only rows up to the limit are read from the
    heap for their flags (and, for a phrase, their `tsvector` for its positions)."""
    hits = sa.select(documents.c.incident_id).where(*pg.counted).limit(bound + 1).subquery()
    return int(session.scalar(sa.select(sa.func.count()).select_from(hits)) or 0)


# The newest candidates are looked for among the newest SLICE ids first, then in wider
# slices (as wide as the first one's density says the rest needs): the GIN bitmap is then
# ANDed with a range of the primary key, and only the slice's matches are read from the
# heap (for their flags), not all of a common word's.
SLICE = 4096

Find = Callable[[list[ColumnElement[bool]], int], list[int]]


def _newest(session: Session, find: Find, limit: int) -> list[int]:
    """The `limit` newest ids `find` gives (newest first, given the range conditions of a
    slice of ids and how many are still wanted), slice by slice from the newest."""
    incident_id = documents.c.incident_id
    top = session.scalar(sa.select(sa.func.max(incident_id)))
    found: list[int] = []
    high, span = (top or 0) + 1, SLICE
    while len(found) < limit and high > 0:
        # Bounds as literals: a prepared statement's generic plan cannot see them.
        low = high - span
        within = [incident_id < sa.literal(high, literal_execute=True)]
        if low > 0:
            within.append(incident_id >= sa.literal(low, literal_execute=True))
        got = find(within, limit - len(found))
        found += got
        # The next slice as wide as this one's density says the rest needs, with a margin
        # (at least twice as wide, eight times if this one had none).
        wanted = limit - len(found)
        span = max(2 * span, 3 * wanted * span // (2 * len(got))) if got else 8 * span
        high = low
    return found


def _found(*conditions: ColumnElement[bool]) -> Any:
    """The ids of the documents matching `conditions`, as a materialized CTE: found from the
    GIN index alone, whatever order is asked of them after."""
    docs = documents.c
    return sa.select(docs.incident_id).where(*conditions).cte("found").prefix_with("MATERIALIZED")


def _pg_ids(session: Session, conditions: list[ColumnElement[bool]], limit: int) -> list[int]:
    """Newest first, without reading a `tsvector` from TOAST: the matches found from the GIN
    index in a materialized CTE, then sorted (slice by slice, see SLICE). Asked for directly,
    with its ORDER BY and LIMIT, the generic plan of the prepared statement (psycopg prepares
    a statement run five times) walks the primary key backwards testing each row's `tsvector`
    (2 s for "rollback")."""

    def find(within: list[ColumnElement[bool]], wanted: int) -> list[int]:
        found = _found(*conditions, *within)
        select = sa.select(found.c.incident_id).order_by(found.c.incident_id.desc()).limit(wanted)
        return list(session.scalars(select))

    return _newest(session, find, limit)


def _pg_checked_ids(
    session: Session,
    candidates: list[ColumnElement[bool]],
    checks: list[ColumnElement[bool]],
    limit: int,
) -> list[int]:
    """Newest first, the `limit` newest of the rows `candidates` select that pass `checks`:
    the candidates found from the GIN index alone (a materialized CTE, sorted; slice by slice,
    see SLICE), then each row checked in turn (a subplan on the primary key) until enough
    have passed. OFFSET 0 keeps the checks from being pushed below the sort, where every
    candidate would be read."""

    def find(within: list[ColumnElement[bool]], wanted: int) -> list[int]:
        found = _found(*candidates, *within)
        ordered = (
            sa.select(found.c.incident_id).order_by(found.c.incident_id.desc()).offset(0).subquery()
        )
        checked = documents.alias("checked")
        passes = (
            sa.select(sa.and_(*checks))
            .select_from(checked)
            .where(checked.c.incident_id == ordered.c.incident_id)
            .scalar_subquery()
        )
        select = sa.select(ordered.c.incident_id).where(passes).limit(wanted)
        return sorted(session.scalars(select), reverse=True)

    return _newest(session, find, limit)


def _newest_of(
    session: Session,
    candidates: list[ColumnElement[bool]],
    checks: list[ColumnElement[bool]],
    limit: int,
) -> list[int]:
    """The `limit` newest rows `candidates` select that pass `checks`. The candidates hold
    one GIN condition: with a second one (the document's words beside the head's, a pair)
    the planner, which cannot estimate either (see _matching), leaves the slice's range of
    the primary key out of the bitmap and reads every candidate's heap page ("ingress
    -nginx" 11.7 → 2 ms a slice at 100,000 incidents)."""
    if checks:
        return _pg_checked_ids(session, candidates, checks, limit)
    return _pg_ids(session, candidates, limit)


def pg_ranked(
    session: Session, pg: Pg, total: int, window: int
) -> tuple[list[tuple[int, float]], set[int]]:
    """The ranked candidates, best first, and their ids (see RANK_WINDOW)."""
    docs = documents.c
    bound = RANK_WINDOW
    order = (pg.score.desc(), docs.incident_id.desc())
    if total <= bound:
        select = sa.select(docs.incident_id, pg.score).where(*pg.conditions)
        rows = session.execute(select.order_by(*order).limit(max(window, bound))).all()
        return [(int(i), float(s)) for i, s in rows], {int(i) for i, _ in rows}
    (head, head_checks), (rest, rest_checks) = pg.tiers
    ids = _newest_of(session, [*head, *pg.filters], head_checks, bound)
    if len(ids) < bound:
        # Fewer head matches than the bound: `ids` holds them all, so the others are the
        # matches not among them (no `head` read for every match).
        left_out = [not_among(session, docs.incident_id, ids)] if ids else []
        ids += _newest_of(session, [*rest, *pg.filters, *left_out], rest_checks, bound - len(ids))
    select = sa.select(docs.incident_id, pg.score).where(among(session, docs.incident_id, ids))
    rows = session.execute(select.order_by(*order)).all()
    return [(int(i), float(s)) for i, s in rows], set(ids)


def pg_rest(
    session: Session, pg: Pg, ranked: set[int], skip: int, count: int
) -> list[tuple[int, float]]:
    """Hits past the ranked candidates, newest first (no score): `count` after `skip`."""
    docs = documents.c
    select = (
        sa.select(docs.incident_id)
        .where(*pg.conditions, not_among(session, docs.incident_id, list(ranked)))
        .order_by(docs.incident_id.desc())
        .offset(skip)
        .limit(count)
    )
    return [(int(i), 0.0) for i in session.scalars(select)]
