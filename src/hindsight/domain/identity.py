"""Stable identities for the items of a postmortem's lists.

Every timeline event, participant, contributing factor, why, lesson and action item carries a
short id (`ev-3f9a2c`) that is assigned once and then kept: in the database, the JSON and
Markdown forms and the API. Edits, removals, comments, history and conflict resolution
address items by id, never by position.

An item without an id (typed by a person, written by an importer, or read from a file made
before ids existed) gets one derived from its content, so the same input always gets the same
ids; a clash with an id already taken is resolved by salting the hash. Migration 0006 derives
the ids of existing rows with the same rule, so a file exported before the migration imports
onto the same items after it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Iterable
from typing import Any, TypeVar

ID_PATTERN = re.compile(r"^[a-z]{2}-[0-9a-z]{4,16}$")

# The prefix of each list's ids: the path of the list in the JSON form → prefix.
PREFIXES: dict[str, str] = {
    "timeline": "ev",
    "participants": "pa",
    "analysis.contributing_factors": "cf",
    "analysis.five_whys": "wy",
    "lessons": "ls",
    "action_items": "ai",
}
# What an item is known by when it has no id yet (the content its id is derived from).
BASIS_FIELDS: dict[str, tuple[str, ...]] = {
    "timeline": ("at", "text"),
    "participants": ("name",),
    "analysis.contributing_factors": ("category", "description"),
    "analysis.five_whys": ("question",),
    "lessons": ("text",),
    "action_items": ("title",),
}

T = TypeVar("T")


def derive_item_id(prefix: str, basis: str, taken: Iterable[str] = ()) -> str:
    """The id an item with this content gets: `prefix-` and six hex digits of a hash."""
    used = set(taken)
    salt = 0
    while True:
        seed = basis if salt == 0 else f"{basis}\x1f{salt}"
        candidate = f"{prefix}-{hashlib.blake2b(seed.encode(), digest_size=3).hexdigest()}"
        if candidate not in used:
            return candidate
        salt += 1


def basis_text(values: Iterable[Any]) -> str:
    """Join an item's identifying values into the text its id is derived from."""
    parts = []
    for value in values:
        isoformat = getattr(value, "isoformat", None)
        parts.append(isoformat() if callable(isoformat) else str(value))
    return "\x1e".join(parts)


def check_item_id(value: str, field: str) -> str:
    """An item id as written: empty (to be assigned) or `xx-` and 4-16 lowercase letters/digits."""
    value = value.strip()
    if value and not ID_PATTERN.match(value):
        raise ValueError(
            f"{field}: {value!r} is not an item id; ids look like 'ev-3f9a2c' "
            "(leave it empty and one is assigned)"
        )
    return value


def with_ids(items: tuple[T, ...], path: str) -> tuple[T, ...]:
    """The items with an id each: given ids are kept (and must be unique), missing ones derived.

    `path` names the list (a key of PREFIXES); errors name the item as `path[index].id`."""
    prefix = PREFIXES[path]
    field = path.rsplit(".", 1)[-1]
    taken: dict[str, int] = {}
    for index, item in enumerate(items):
        item_id: str = getattr(item, "id")  # noqa: B009 - every list item type has an id
        if not item_id:
            continue
        if item_id in taken:
            raise ValueError(
                f"{field}[{index}].id: '{item_id}' is also the id of item {taken[item_id] + 1}; "
                "each item's id is unique (leave it empty to get a new one)"
            )
        taken[item_id] = index
    if len(taken) == len(items):
        return items
    result: list[T] = []
    for item in items:
        if not getattr(item, "id"):  # noqa: B009
            basis = basis_text(getattr(item, name) for name in BASIS_FIELDS[path])
            new_id = derive_item_id(prefix, basis, taken)
            taken[new_id] = len(result)
            item = dataclasses.replace(item, id=new_id)  # type: ignore[type-var]
        result.append(item)
    return tuple(result)


def index_of(items: Iterable[Any], item_id: str) -> int | None:
    """The position of the item with this id, or None."""
    for index, item in enumerate(items):
        found = item.get("id") if isinstance(item, dict) else getattr(item, "id", None)
        if found == item_id:
            return index
    return None


LABEL_FIELDS: dict[str, str] = {
    "timeline": "text",
    "participants": "name",
    "analysis.contributing_factors": "description",
    "analysis.five_whys": "question",
    "lessons": "text",
    "action_items": "title",
}


def label_of(path: str, item: dict[str, Any]) -> str:
    """What people call an item: an event's text, an action's title, a person's name…"""
    value = item.get(LABEL_FIELDS.get(path, ""), "")
    return value if isinstance(value, str) and value else str(item.get("id", ""))
