"""Create, change and import postmortems, with a revision for every change."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hindsight.analysis.diff import FieldChange, diff_postmortems
from hindsight.domain.access import Actor, Role, is_allowed_after_publication
from hindsight.domain.codec import InvalidPostmortemError, Problem
from hindsight.domain.incidents import Postmortem, ReviewStatus
from hindsight.domain.text import slugify
from hindsight.errors import ConflictError, PermissionDeniedError
from hindsight.services.incidents.reading import get_postmortem
from hindsight.services.incidents.stored import (
    StoredPostmortem,
    check_categories,
    find_row,
    stored_from_row,
    utc_now,
)
from hindsight.services.merging import rebase
from hindsight.services.profiles import refresh_profile
from hindsight.storage.insight_facts import refresh_insight_facts
from hindsight.storage.models import IncidentMemberRow, IncidentRow, RevisionRow
from hindsight.storage.repository import postmortem_from_row, write_postmortem
from hindsight.storage.search_index import reindex_incidents


def _record(session: Session, row: IncidentRow, **values: Any) -> None:
    changes = [c.to_dict() for c in values.pop("changes")]
    session.add(RevisionRow(incident_id=row.id, version=row.version, changes=changes, **values))


def new_key(session: Session, title: str, on: dt.date) -> str:
    """A readable unique key: '2018-01-18-reddit-hugs-mybinder', then '-2', '-3'…"""
    base = f"{on.isoformat()}-{slugify(title)}"
    taken = set(
        session.scalars(
            select(IncidentRow.key).where(IncidentRow.key.startswith(base, autoescape=True))
        )
    )
    if base not in taken:
        return base
    return next(f"{base}-{n}" for n in range(2, len(taken) + 3) if f"{base}-{n}" not in taken)


def create_postmortem(
    session: Session,
    *,
    postmortem: Postmortem,
    author: str,
    action: str = "create",
    now: dt.datetime | None = None,
    actor: Actor | None = None,
    derived: bool = True,
) -> StoredPostmortem:
    """Store a new postmortem; its key must be free. The creating account becomes a member.
    `derived=False` leaves its search entry and similarity profile to the caller, who brings
    them up to date in the same transaction (the archive import does so in batches)."""
    now = now or utc_now()
    _require_editor(actor)
    if actor is not None and postmortem.review_status is not ReviewStatus.DRAFT:
        # Only the review workflow moves a postmortem past draft (reviewers, the lint gate).
        raise InvalidPostmortemError(
            [
                Problem(
                    ("review_status",),
                    "a new postmortem starts as a draft; request review, approve and publish "
                    "through the review workflow",
                )
            ]
        )
    if session.scalars(select(IncidentRow.id).where(IncidentRow.key == postmortem.key)).first():
        # The same words whether or not the asker may see the incident holding the key, so
        # creating cannot tell a restricted incident from a visible one.
        raise ConflictError(
            f"the key '{postmortem.key}' is taken; choose another key, or leave it out "
            "to have one made from the title",
            0,
        )
    check_categories(session, postmortem)
    row = IncidentRow(created_at=now)
    write_postmortem(row, postmortem, now)
    session.add(row)
    session.flush()
    if actor is not None:
        session.add(IncidentMemberRow(incident_id=row.id, user_id=actor.id))
    changes = diff_postmortems(None, postmortem)
    _record(session, row, author=author, at=now, action=action, changes=changes)
    if derived:
        refresh_profile(session, incident_id=row.id, postmortem=postmortem, now=now)
        session.flush()
        reindex_incidents(session.connection(), [row.id])
        refresh_insight_facts(session.connection(), [row.id])
    return stored_from_row(row)


def _require_editor(actor: Actor | None) -> None:
    if actor is not None and actor.role is Role.VIEWER:
        raise PermissionDeniedError(
            "viewers cannot change postmortems; ask an admin for the editor role"
        )


def _check_publication_lock(before: Postmortem, changes: list[FieldChange]) -> None:
    if before.review_status != "published":
        return
    locked = [c.field for c in changes if not is_allowed_after_publication(c.field)]
    if locked:
        raise PermissionDeniedError(
            f"this postmortem is published and read-only (tried to change {locked[0]}); "
            "only action items can still be updated. Reopen it to edit."
        )


def update_postmortem(
    session: Session,
    *,
    key: str,
    change: Callable[[Postmortem], Postmortem],
    author: str,
    expected_version: int | None = None,
    action: str = "update",
    now: dt.datetime | None = None,
    actor: Actor | None = None,
    review_transition: bool = False,
    note: str = "",
    extra_changes: Sequence[FieldChange] = (),
    force: bool = False,
    derived: bool = True,
) -> StoredPostmortem:
    """Apply `change` to the current postmortem and store it with a revision.

    Steps: lock the row; if the caller's `expected_version` is stale, merge the change onto
    the current version per item and field (services/merging.py; ConflictError lists the
    fields both sides changed, unless `force` keeps the caller's); store and record what
    differs. A change that alters nothing stores nothing. `derived` as `create_postmortem`.
    """
    now = now or utc_now()
    _require_editor(actor)
    row = find_row(session, key, for_update=True, actor=actor)
    before = postmortem_from_row(row)
    if expected_version is not None and expected_version > row.version:
        raise ConflictError(
            f"incident '{key}' was changed by someone else or never had version "
            f"{expected_version} (it is at version {row.version}); reload it",
            row.version,
        )
    if row.archived_at is not None:
        raise PermissionDeniedError(
            f"incident '{key}' is archived and read-only; unarchive it to change it"
        )
    if expected_version is not None and row.version != expected_version:
        after = rebase(
            session,
            key=key,
            incident_id=row.id,
            current=before,
            current_version=row.version,
            expected_version=expected_version,
            change=change,
            force=force,
        )
    else:
        after = change(before)
    if after.key != key:
        raise InvalidPostmortemError([Problem(("key",), "cannot be changed")])
    changes = diff_postmortems(before, after)
    if not changes and not extra_changes:
        return stored_from_row(row)
    if not review_transition:
        _check_publication_lock(before, changes)
        if any(change.field == "review_status" for change in changes) and actor is not None:
            raise PermissionDeniedError(
                "the review status changes through the review "
                "workflow (request review, approve, publish, reopen)"
            )
    check_categories(session, after)
    write_postmortem(row, after, now)
    session.flush()
    if not changes:
        row.updated_at = now  # still a new version: the review decision is the change
    changes = changes + list(extra_changes)
    _record(session, row, author=author, at=now, action=action, changes=changes, note=note)
    if derived:
        refresh_profile(session, incident_id=row.id, postmortem=after, now=now)
        session.flush()
        reindex_incidents(session.connection(), [row.id])
        refresh_insight_facts(session.connection(), [row.id])
    return stored_from_row(row)


def save_postmortem(
    session: Session,
    *,
    postmortem: Postmortem,
    author: str,
    action: str = "import",
) -> tuple[str, StoredPostmortem]:
    """Create the postmortem, or update the one with the same key; says which (or unchanged)."""
    exists = session.scalars(select(IncidentRow.id).where(IncidentRow.key == postmortem.key))
    if exists.first() is None:
        return "created", create_postmortem(
            session, postmortem=postmortem, author=author, action=action
        )
    before = get_postmortem(session, key=postmortem.key)
    stored = update_postmortem(
        session, key=postmortem.key, change=lambda _: postmortem, author=author, action=action
    )
    return ("unchanged" if stored.version == before.version else "updated"), stored
