"""Who may see which hit, in the index's terms: the flags (`restricted`, `archived`) that hide
a hit from a reader, always or unless the reader is a member of its incident."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import ColumnElement, Select
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from hindsight.domain.access import Actor
from hindsight.storage.search_index import ARCHIVED_TOKEN, RESTRICTED_TOKEN
from hindsight.storage.visibility import member_of, sees_everything

# The `tokens` word (SQLite) of each flag.
FLAG_TOKENS = {"restricted": RESTRICTED_TOKEN, "archived": ARCHIVED_TOKEN}


def is_sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def plan_each_search(session: Session) -> None:
    """PostgreSQL: plan each of this transaction's statements for its own values. psycopg
    prepares a statement run five times and PostgreSQL may then keep one generic plan, but
    the best plan of a search depends on how many incidents hold its words: with the generic
    plan "rollback" took 317 ms a search against 89 ms planned each time (the 14 bench
    queries interleaved at 100,000 incidents: p95 311 → 90 ms). Nothing on SQLite."""
    if not is_sqlite(session):
        session.execute(sa.text("SET LOCAL plan_cache_mode = force_custom_plan"))


@dataclass(frozen=True)
class Access:
    """Which index flags hide a hit: `never` from this reader, `unless_member` unless the
    reader is a member of its incident (restricted incidents; archived ones when asked for)."""

    never: tuple[str, ...]
    unless_member: tuple[str, ...]
    actor: Actor | None

    @classmethod
    def of(cls, actor: Actor | None, *, include_archived: bool) -> Access:
        never = () if include_archived else ("archived",)
        if sees_everything(actor):
            return cls(never, (), actor)
        return cls(never, ("restricted", *(("archived",) if include_archived else ())), actor)

    def members(self) -> Select[Any]:
        assert self.actor is not None
        return member_of(self.actor)


def exact_recurring(access: Access, filters: Mapping[str, Sequence[str]]) -> bool:
    """Whether the "recurring" filter needs a check in SQL for this reader (the index says
    only that a link exists, maybe to an incident the reader may not see)."""
    return bool(filters.get("recurring")) and not sees_everything(access.actor)


def among(session: Session, column: ColumnElement[Any], ids: Sequence[int]) -> ColumnElement[bool]:
    """`column IN ids`, with the ids as one bound value (a JSON array read by `json_each` on
    SQLite, an integer array on PostgreSQL): a thousand bound parameters cost more to compile,
    check and send than the lookup itself."""
    if is_sqlite(session):
        listed = sa.func.json_each(sa.bindparam(None, json.dumps(list(ids)), sa.Text))
        return column.in_(sa.select(listed.table_valued("value").c.value))
    return column == sa.any_(sa.bindparam(None, list(ids), postgresql.ARRAY(sa.Integer)))


def not_among(
    session: Session, column: ColumnElement[Any], ids: Sequence[int]
) -> ColumnElement[bool]:
    """`column NOT IN ids`, the ids as one bound value (see `among`)."""
    if is_sqlite(session):
        return sa.not_(among(session, column, ids))
    return column != sa.all_(sa.bindparam(None, list(ids), postgresql.ARRAY(sa.Integer)))
