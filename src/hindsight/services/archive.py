"""Archive, unarchive and delete incidents: the self-hosting side of an incident's life.

An archived incident leaves every list, count and search (services/incidents: visible_to)
but keeps all its data and stays reachable by key for admins and its members; archiving and
unarchiving are revisions in its history. Deleting removes the incident and everything that
belongs to it (the database cascades every child table) and nothing else.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from hindsight.domain.access import Actor, can_archive, can_delete
from hindsight.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from hindsight.services.incidents import StoredPostmortem, get_postmortem, utc_now, visible_to
from hindsight.storage.insight_facts import forget_insight_facts, refresh_insight_facts
from hindsight.storage.models import IncidentMemberRow, IncidentRow, RevisionRow
from hindsight.storage.repository import set_archived
from hindsight.storage.search_index import reindex_incidents


def _locked_row(session: Session, key: str, actor: Actor | None) -> IncidentRow:
    """The incident row, locked for this transaction, if `actor` may see it."""
    query = visible_to(select(IncidentRow).where(IncidentRow.key == key), actor, archived=None)
    row: IncidentRow | None = session.scalars(
        query.with_for_update().execution_options(populate_existing=True)
    ).one_or_none()
    if row is None:
        raise NotFoundError(f"no incident with key '{key}'")
    return row


def _is_member(session: Session, row: IncidentRow, actor: Actor) -> bool:
    return bool(
        session.scalar(
            select(
                exists().where(
                    IncidentMemberRow.incident_id == row.id, IncidentMemberRow.user_id == actor.id
                )
            )
        )
    )


def _set_archived(
    session: Session,
    *,
    key: str,
    archive: bool,
    author: str,
    actor: Actor | None,
    now: dt.datetime | None,
) -> StoredPostmortem:
    """Steps: lock the row; check the actor may archive it; refuse a no-op; set or clear
    archived_at/archived_by (a new version); record the revision."""
    now = now or utc_now()
    row = _locked_row(session, key, actor)
    if actor is not None and not can_archive(actor.role, is_member=_is_member(session, row, actor)):
        raise PermissionDeniedError(
            "only admins and editors who are members of this incident can archive or unarchive it"
        )
    if (row.archived_at is not None) == archive:
        state = "already archived" if archive else "not archived"
        raise InvalidInputError(f"incident '{key}' is {state}")
    set_archived(session, row, archived=archive, by=author, now=now)
    session.flush()  # bumps the version (optimistic concurrency column)
    reindex_incidents(session.connection(), [row.id])  # search filters on the archive flag
    refresh_insight_facts(session.connection(), [row.id])  # so do the insights
    session.add(
        RevisionRow(
            incident_id=row.id,
            version=row.version,
            author=author,
            at=now,
            action="archive" if archive else "unarchive",
            changes=[{"field": "archived", "old": not archive, "new": archive}],
        )
    )
    session.flush()
    return get_postmortem(session, key=key, actor=actor)


def archive_incident(
    session: Session,
    *,
    key: str,
    author: str,
    actor: Actor | None = None,
    now: dt.datetime | None = None,
) -> StoredPostmortem:
    """Take the incident out of lists and search, keeping everything (a revision records it)."""
    return _set_archived(session, key=key, archive=True, author=author, actor=actor, now=now)


def unarchive_incident(
    session: Session,
    *,
    key: str,
    author: str,
    actor: Actor | None = None,
    now: dt.datetime | None = None,
) -> StoredPostmortem:
    """Bring an archived incident back into lists and search (a revision records it)."""
    return _set_archived(session, key=key, archive=False, author=author, actor=actor, now=now)


def delete_incident(session: Session, *, key: str, actor: Actor | None = None) -> None:
    """Delete the incident and everything that belongs to it, for good (admins only)."""
    if actor is not None and not can_delete(actor.role):
        raise PermissionDeniedError("only admins can delete an incident; archive it instead")
    row = _locked_row(session, key, actor)
    # Every child table's foreign key says ON DELETE CASCADE (SQLite: foreign_keys=ON); the
    # insights' rollups are counts, so the incident's are subtracted first.
    forget_insight_facts(session.connection(), [row.id])
    session.execute(delete(IncidentRow).where(IncidentRow.id == row.id))
    session.expunge(row)
