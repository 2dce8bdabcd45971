"""Undo from the history: restore a removed item, revert a whole revision.

Both are new revisions themselves (action "restore" / "revert", with a note naming what they
undo), so nothing in the history is ever rewritten.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hindsight.analysis.diff import (
    ChangeNotApplicableError,
    FieldChange,
    apply_changes,
    invert,
    is_positional,
    items_at,
    split_item_path,
)
from hindsight.domain.access import Actor
from hindsight.domain.codec import postmortem_from_dict, postmortem_to_dict
from hindsight.domain.incidents import Postmortem
from hindsight.errors import InvalidInputError, NotFoundError
from hindsight.services.incidents import StoredPostmortem, update_postmortem, visible_incident_id
from hindsight.storage.models import RevisionRow


def _revision_changes(
    session: Session, *, key: str, version: int, actor: Actor | None
) -> list[FieldChange]:
    incident_id = visible_incident_id(session, key=key, actor=actor)
    row = session.scalars(
        select(RevisionRow).where(
            RevisionRow.incident_id == incident_id, RevisionRow.version == version
        )
    ).first()
    if row is None:
        raise NotFoundError(f"incident '{key}' has no version {version}")
    return [FieldChange.from_dict(change) for change in row.changes]


def restore_item(
    session: Session,
    *,
    key: str,
    version: int,
    item: str,
    author: str,
    actor: Actor | None = None,
    now: dt.datetime | None = None,
) -> StoredPostmortem:
    """Put back the item (`timeline.ev-3f9a2c`) that revision `version` removed, with its id."""
    changes = _revision_changes(session, key=key, version=version, actor=actor)
    removal = next((c for c in changes if c.field == item and c.new is None), None)
    if removal is None or split_item_path(item) is None:
        raise NotFoundError(f"version {version} of '{key}' did not remove an item '{item}'")

    def change(postmortem: Postmortem) -> Postmortem:
        data = postmortem_to_dict(postmortem)
        list_path = split_item_path(item)
        assert list_path is not None
        if any(i.get("id") == list_path.item_id for i in items_at(data, list_path.list_path)):
            raise InvalidInputError(f"'{removal.label}' is already in the postmortem")
        apply_changes(data, [FieldChange(item, None, removal.old, removal.label)])
        return postmortem_from_dict(data)

    return update_postmortem(
        session,
        key=key,
        change=change,
        author=author,
        action="restore",
        note=f"restored '{removal.label}' removed in version {version}",
        actor=actor,
        now=now,
    )


def revert_revision(
    session: Session,
    *,
    key: str,
    version: int,
    author: str,
    actor: Actor | None = None,
    now: dt.datetime | None = None,
) -> StoredPostmortem:
    """Undo every change of revision `version` on the current postmortem, as a new revision.

    Refused (naming the field) where a later revision changed the same field again."""
    changes = [
        c
        for c in _revision_changes(session, key=key, version=version, actor=actor)
        if not c.field.startswith("reviewers.")
    ]
    if not changes:
        raise InvalidInputError(f"version {version} changed nothing that can be reverted")
    if any(is_positional(c.field) for c in changes):
        raise InvalidInputError(
            f"version {version} was recorded before items had ids; revert it by hand"
        )

    def change(postmortem: Postmortem) -> Postmortem:
        data = postmortem_to_dict(postmortem)
        probe = copy.deepcopy(data)
        for undo in invert(changes):
            _check_still_as_left(probe, undo, version)
        apply_changes(data, invert(changes))
        return postmortem_from_dict(data)

    return update_postmortem(
        session,
        key=key,
        change=change,
        author=author,
        action="revert",
        note=f"reverted version {version}",
        actor=actor,
        now=now,
    )


def _check_still_as_left(data: dict[str, Any], undo: FieldChange, version: int) -> None:
    """`undo` goes back from undo.old (what the revision wrote) to undo.new; refuse if the field
    no longer holds what the revision wrote."""
    current = copy.deepcopy(data)
    try:
        apply_changes(current, [FieldChange(undo.field, undo.new, undo.old, undo.label)])
    except ChangeNotApplicableError:
        current = None  # type: ignore[assignment]
    expected = copy.deepcopy(data)
    if current != expected and undo.old is not None:
        where = f"'{undo.label}' ({undo.field})" if undo.label else undo.field
        raise InvalidInputError(
            f"{where} was changed again after version {version}; revert the later change first"
        )
    apply_changes(data, [undo])
