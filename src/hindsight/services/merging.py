"""Merge an edit made on an older version onto the current one, per item and per field.

Steps: read the changes recorded since the version the edit started from; rebuild that base
version by undoing them on the current postmortem; apply the edit to the base to learn which
fields it changes; if the other side changed none of those fields (or changed them to the same
value), apply just the edit's changes onto the current version. Otherwise report every
conflicting field with both values, or with `force`, write the edit's own fields only (an item
the other side removed comes back with this side's values).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hindsight.analysis.diff import (
    ChangeNotApplicableError,
    FieldChange,
    apply_changes,
    diff_postmortems,
    find_conflicts,
    invert,
    is_positional,
    items_at,
    split_item_path,
)
from hindsight.domain.codec import postmortem_from_dict, postmortem_to_dict
from hindsight.domain.incidents import Postmortem
from hindsight.errors import ConflictError
from hindsight.storage.models import RevisionRow


def changes_since(session: Session, incident_id: int, version: int) -> list[FieldChange] | None:
    """Every change recorded after `version`, oldest first; None if one predates item ids."""
    rows = session.scalars(
        select(RevisionRow)
        .where(RevisionRow.incident_id == incident_id, RevisionRow.version > version)
        .order_by(RevisionRow.version)
    )
    changes = [FieldChange.from_dict(c) for row in rows for c in row.changes]
    if any(is_positional(change.field) for change in changes):
        return None
    return changes


def _stale(key: str, expected: int, current: int) -> str:
    return (
        f"incident '{key}' was changed by someone else (you had version {expected}, it is now "
        f"version {current})"
    )


def _restore_whole_items(
    mine: list[FieldChange], edited: Postmortem, current: dict[str, Any]
) -> list[FieldChange]:
    """With `force`, an edit of an item the other side removed re-adds the whole item."""
    edited_data = postmortem_to_dict(edited)
    result: list[FieldChange] = []
    added: set[str] = set()
    for change in mine:
        item_path = split_item_path(change.field)
        if item_path is None or not item_path.field:
            result.append(change)
            continue
        try:
            apply_changes(copy.deepcopy(current), [change])
            result.append(change)
        except ChangeNotApplicableError:
            owner = f"{item_path.list_path}.{item_path.item_id}"
            if owner in added:
                continue
            items = items_at(edited_data, item_path.list_path)
            item = next(i for i in items if i.get("id") == item_path.item_id)
            result.append(FieldChange(owner, None, item, change.label))
            added.add(owner)
    return result


def rebase(
    session: Session,
    *,
    key: str,
    incident_id: int,
    current: Postmortem,
    current_version: int,
    expected_version: int,
    change: Callable[[Postmortem], Postmortem],
    force: bool = False,
) -> Postmortem:
    """The current postmortem with the edit's own changes applied (see the module's steps)."""
    theirs = changes_since(session, incident_id, expected_version)
    if theirs is None:
        raise ConflictError(
            _stale(key, expected_version, current_version) + "; reload it and apply your "
            "change again (the history before item ids cannot be merged)",
            current_version,
        )
    base_data = postmortem_to_dict(current)
    try:
        apply_changes(base_data, invert(theirs))
        base = postmortem_from_dict(base_data)
    except (ChangeNotApplicableError, ValueError):
        raise ConflictError(
            _stale(key, expected_version, current_version) + "; reload it and apply your change "
            "again",
            current_version,
        ) from None
    edited = change(base)
    mine = diff_postmortems(base, edited)
    conflicts = find_conflicts(mine, theirs)
    if conflicts and not force:
        listed = "; ".join(
            f"{c.label + ': ' if c.label else ''}{c.field.rsplit('.', 1)[-1]}" for c in conflicts
        )
        raise ConflictError(
            _stale(key, expected_version, current_version)
            + f" and the same fields changed on both sides ({listed}). Keep yours or reload.",
            current_version,
            tuple((c.field, c.label, c.mine, c.theirs) for c in conflicts),
        )
    data = postmortem_to_dict(current)
    if force:
        mine = _restore_whole_items(mine, edited, data)
    apply_changes(data, mine)
    return postmortem_from_dict(data)
