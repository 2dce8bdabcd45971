"""A postmortem as stored, and how the incident services find the rows a reader may see."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from hindsight.domain.access import Actor
from hindsight.domain.codec import InvalidPostmortemError, Problem
from hindsight.domain.incidents import Postmortem
from hindsight.errors import NotFoundError
from hindsight.storage.models import FactorCategoryRow, IncidentRow
from hindsight.storage.repository import postmortem_from_row
from hindsight.storage.visibility import member_of, sees_everything, where_visible


def utc_now() -> dt.datetime:
    """The current time; services take it from here so tests can pass their own."""
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class StoredPostmortem:
    """A postmortem as stored: the value plus its version and timestamps."""

    postmortem: Postmortem
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    archived_at: dt.datetime | None = None
    archived_by: str = ""


_ALL_PARTS = tuple(
    selectinload(part)
    for part in (
        IncidentRow.services,
        IncidentRow.tags,
        IncidentRow.participants,
        IncidentRow.timeline,
        IncidentRow.action_items,
    )
)


def load_all_parts() -> tuple[Any, ...]:
    """Loader options that read every part of an incident with its row."""
    return _ALL_PARTS


def stored_from_row(row: IncidentRow) -> StoredPostmortem:
    """The stored postmortem of a row loaded with all its parts."""
    return StoredPostmortem(
        postmortem_from_row(row),
        row.version,
        row.created_at,
        row.updated_at,
        row.archived_at,
        row.archived_by or "",
    )


def visible_to(
    query: Select[Any], actor: Actor | None, *, archived: bool | None = False
) -> Select[Any]:
    """Narrow an incident query to what `actor` may see (None: the local operator, sees all).

    Every list, count and search goes through here, so archived incidents stay out of them
    by default. `archived=True` keeps only archived incidents; `None` (opening one by its key)
    keeps both. Archived incidents are visible to admins and the incident's members only.
    """
    if archived is False:
        query = query.where(IncidentRow.archived_at.is_(None))
    elif archived is True:
        query = query.where(IncidentRow.archived_at.is_not(None))
    # The rule for restricted incidents is storage/visibility.py's, the one every read uses.
    query = where_visible(query, actor)
    if archived is not False and not sees_everything(actor):
        assert actor is not None
        query = query.where(
            IncidentRow.archived_at.is_(None) | IncidentRow.id.in_(member_of(actor))
        )
    return query


def find_row(
    session: Session, key: str, *, for_update: bool = False, actor: Actor | None = None
) -> IncidentRow:
    """The incident's row with all its parts if `actor` may see it, archived or not
    (NotFoundError if not); `for_update` locks it for a change."""
    query = visible_to(select(IncidentRow).where(IncidentRow.key == key), actor, archived=None)
    query = query.options(*_ALL_PARTS)
    if for_update:
        # PostgreSQL: a second writer waits here until the first commits, then sees its version.
        # SQLite: BEGIN IMMEDIATE has already serialised writers.
        query = query.with_for_update().execution_options(populate_existing=True)
    row: IncidentRow | None = session.scalars(query).one_or_none()
    if row is None:
        raise NotFoundError(f"no incident with key '{key}'")
    return row


def check_categories(session: Session, postmortem: Postmortem) -> None:
    """Refuse contributing factors whose category is not in the team's taxonomy."""
    known = set(session.scalars(select(FactorCategoryRow.name)))
    problems = [
        Problem(
            ("analysis", "contributing_factors", index, "category"),
            f"'{factor.category}' is not in the taxonomy ({', '.join(sorted(known))}); "
            "add it with `hindsight taxonomy add NAME`",
        )
        for index, factor in enumerate(postmortem.analysis.contributing_factors)
        if factor.category not in known
    ]
    if problems:
        raise InvalidPostmortemError(problems)
