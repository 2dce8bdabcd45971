"""Open one postmortem (kept for the rest of a read-only session) and read its history."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from hindsight.analysis.diff import FieldChange
from hindsight.domain.access import Actor
from hindsight.errors import NotFoundError
from hindsight.services.incidents.stored import (
    StoredPostmortem,
    find_row,
    stored_from_row,
    visible_to,
)
from hindsight.storage.db import reads_only
from hindsight.storage.models import IncidentRow, RevisionRow


@dataclass(frozen=True)
class Revision:
    """One entry of a postmortem's history."""

    version: int
    author: str
    at: dt.datetime
    action: str
    changes: list[FieldChange]
    note: str = ""


_READ_MEMO = "hindsight_postmortems"  # session.info keys of what a read-only session keeps


_ID_MEMO = "hindsight_incident_ids"


def visible_incident_id(session: Session, *, key: str, actor: Actor | None = None) -> int:
    """The row id of the incident with this key if `actor` may see it (NotFoundError if not);
    a cheap check for use cases that need access, not the whole postmortem (kept for the
    session's later callers when it reads only, as `get_postmortem` does)."""
    memo: dict[tuple[str, object], int] | None = None
    asked = (key, None if actor is None else (actor.id, actor.role))
    if reads_only(session):
        memo = session.info.setdefault(_ID_MEMO, {})
        if asked in memo:
            return memo[asked]
    query = select(IncidentRow.id).where(IncidentRow.key == key)
    found = session.scalar(visible_to(query, actor, archived=None))
    if found is None:
        raise NotFoundError(f"no incident with key '{key}'")
    if memo is not None:
        memo[asked] = int(found)
    return int(found)


def get_postmortem(session: Session, *, key: str, actor: Actor | None = None) -> StoredPostmortem:
    """The stored postmortem with this key, if `actor` may see it.

    A read-only session (a page view) keeps each answer for its later callers: the page's
    parts (lint, root-cause candidates, evidence, recurrence) each ask for the postmortem, and
    loading it is most of their cost. Nothing in such a session can change it."""
    if not reads_only(session):
        return stored_from_row(find_row(session, key, actor=actor))
    memo: dict[tuple[str, object], StoredPostmortem] = session.info.setdefault(_READ_MEMO, {})
    asked = (key, None if actor is None else (actor.id, actor.role))
    found = memo.get(asked)
    if found is None:
        found = memo[asked] = stored_from_row(find_row(session, key, actor=actor))
    return found


def list_revisions(session: Session, *, key: str, actor: Actor | None = None) -> list[Revision]:
    """The postmortem's history, oldest first."""
    row = find_row(session, key, actor=actor)
    revisions = session.scalars(
        select(RevisionRow).where(RevisionRow.incident_id == row.id).order_by(RevisionRow.version)
    )
    return [
        Revision(
            version=rev.version,
            author=rev.author,
            at=rev.at,
            action=rev.action,
            changes=[FieldChange.from_dict(c) for c in rev.changes],
            note=rev.note,
        )
        for rev in revisions
    ]
