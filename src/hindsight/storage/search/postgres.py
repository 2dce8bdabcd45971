"""PostgreSQL's side of search: the conditions of one search on `search_documents` (the
GIN-indexed `document`, visibility from the row's flags and the reader's memberships, facet
filters from `search_facets`), the count, `ts_rank_cd` over a bounded candidate set, and the
hits past it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from hindsight.domain.search import SearchQuery, to_websearch
from hindsight.storage.search.access import Access, exact_recurring
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


class Pg:
    """The conditions of one search, and its score."""

    def __init__(
        self, query: SearchQuery, access: Access, filters: Mapping[str, Sequence[str]]
    ) -> None:
        docs = documents.c
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
        if exact_recurring(access, filters):
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


def pg_count(session: Session, pg: Pg) -> int:
    counted = sa.select(sa.func.count()).select_from(documents).where(*pg.conditions)
    return int(session.scalar(counted) or 0)


def _pg_ids(session: Session, pg: Pg, *extra: ColumnElement[bool], limit: int) -> list[int]:
    """Newest first, without reading a `tsvector` from TOAST."""
    docs = documents.c
    select = sa.select(docs.incident_id).where(*pg.conditions, *extra)
    return list(session.scalars(select.order_by(docs.incident_id.desc()).limit(limit)))


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
    ids = _pg_ids(session, pg, pg.head, limit=bound)
    if len(ids) < bound:
        ids += _pg_ids(session, pg, sa.not_(pg.head), limit=bound - len(ids))
    select = sa.select(docs.incident_id, pg.score).where(docs.incident_id.in_(ids))
    rows = session.execute(select.order_by(*order)).all()
    return [(int(i), float(s)) for i, s in rows], set(ids)


def pg_rest(
    session: Session, pg: Pg, ranked: set[int], skip: int, count: int
) -> list[tuple[int, float]]:
    """Hits past the ranked candidates, newest first (no score): `count` after `skip`."""
    docs = documents.c
    select = (
        sa.select(docs.incident_id)
        .where(*pg.conditions, docs.incident_id.not_in(list(ranked)))
        .order_by(docs.incident_id.desc())
        .offset(skip)
        .limit(count)
    )
    return [(int(i), 0.0) for i in session.scalars(select)]
