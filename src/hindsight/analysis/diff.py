"""What changed between two versions of a postmortem, item by item, for the revision history.

List items are compared by id: an item added or removed is one change holding the whole item;
an item edited is one change per field that differs (`timeline.ev-3f9a2c.text`). Other values
are compared field by field down to their leaves; plain lists of strings (services, root
causes) and an event's provenance are compared whole.

The same change records are applied to a postmortem's data (`apply_changes`) to revert a
revision, restore a removed item, and merge an edit made on an older version onto the
current one (`find_conflicts` says where both sides touched the same field).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from hindsight.domain.codec import postmortem_to_dict
from hindsight.domain.identity import ID_PATTERN, PREFIXES, label_of
from hindsight.domain.incidents import Postmortem

ITEM_LISTS = tuple(PREFIXES)
_EMPTY: tuple[Any, ...] = (None, "", [], {})


@dataclass(frozen=True)
class FieldChange:
    """One change: `field` is a dotted path such as `title`, `impact.cost.currency`,
    `timeline.ev-3f9a2c` (the whole item added or removed) or `timeline.ev-3f9a2c.text`.
    `label` names the item the change is in, as people call it."""

    field: str
    old: Any
    new: Any
    label: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The stored form of the change."""
        data = {"field": self.field, "old": self.old, "new": self.new}
        if self.label:
            data["label"] = self.label
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FieldChange:
        """Read a stored change (revisions before ids have no label)."""
        return cls(data["field"], data.get("old"), data.get("new"), data.get("label", ""))


@dataclass(frozen=True)
class ItemPath:
    """A change's path split into the list, the item id and the field in it ('' = whole)."""

    list_path: str
    item_id: str
    field: str


def split_item_path(path: str) -> ItemPath | None:
    """`timeline.ev-3f9a2c.text` → ItemPath('timeline', 'ev-3f9a2c', 'text'); None otherwise."""
    for list_path in ITEM_LISTS:
        if path.startswith(list_path + "."):
            rest = path[len(list_path) + 1 :].split(".", 1)
            if ID_PATTERN.match(rest[0]):
                return ItemPath(list_path, rest[0], rest[1] if len(rest) > 1 else "")
    return None


def is_positional(path: str) -> bool:
    """True for paths written before items had ids (`timeline.3.text`)."""
    return any(
        path.startswith(list_path + ".") and path[len(list_path) + 1 :].split(".")[0].isdigit()
        for list_path in ITEM_LISTS
    )


def _diff_items(path: str, old: list[Any], new: list[Any]) -> Iterator[FieldChange]:
    before = {item.get("id"): item for item in old if isinstance(item, dict)}
    after = {item.get("id"): item for item in new if isinstance(item, dict)}
    for item_id, item in before.items():
        if item_id not in after:
            yield FieldChange(f"{path}.{item_id}", item, None, label_of(path, item))
    for item_id, item in after.items():
        if item_id not in before:
            yield FieldChange(f"{path}.{item_id}", None, item, label_of(path, item))
            continue
        previous = before[item_id]
        for name in dict.fromkeys([*previous, *item]):
            if previous.get(name) != item.get(name):
                yield FieldChange(
                    f"{path}.{item_id}.{name}",
                    previous.get(name),
                    item.get(name),
                    label_of(path, item),
                )


def _diff(path: str, old: Any, new: Any) -> Iterator[FieldChange]:
    if path in ITEM_LISTS:
        yield from _diff_items(path, old or [], new or [])
    elif isinstance(old, dict) and isinstance(new, dict):
        for name in dict.fromkeys([*old, *new]):
            child = f"{path}.{name}" if path else name
            yield from _diff(child, old.get(name), new.get(name))
    elif old != new and not (old in _EMPTY and new in _EMPTY):
        yield FieldChange(path, old, new)


def diff_data(old: dict[str, Any], new: dict[str, Any]) -> list[FieldChange]:
    """The changes from one JSON form to another."""
    return list(_diff("", old, new))


def diff_postmortems(old: Postmortem | None, new: Postmortem) -> list[FieldChange]:
    """Every change from `old` to `new`, in document order; `old=None` means it was created."""
    before = postmortem_to_dict(old) if old is not None else {}
    return diff_data(before, postmortem_to_dict(new))


class ChangeNotApplicableError(ValueError):
    """A change that cannot be applied to this version (its item or field is not there)."""


def _container(data: dict[str, Any], path: str) -> tuple[Any, str]:
    parts = path.split(".")
    target: Any = data
    for part in parts[:-1]:
        if not isinstance(target, dict) or part not in target:
            raise ChangeNotApplicableError(f"{path}: there is no such field")
        target = target[part]
    if not isinstance(target, dict) or parts[-1] not in target:
        raise ChangeNotApplicableError(f"{path}: there is no such field")
    return target, parts[-1]


def items_at(data: dict[str, Any], list_path: str) -> list[dict[str, Any]]:
    """The items of the list at `list_path` ('analysis.five_whys') in a JSON form."""
    return _items(data, list_path)


def _items(data: dict[str, Any], list_path: str) -> list[dict[str, Any]]:
    parent, name = _container(data, list_path)
    items: list[dict[str, Any]] = parent[name]
    return items


def apply_change(data: dict[str, Any], change: FieldChange) -> None:
    """Make `data` (a JSON form, changed in place) hold `change.new` where the change says."""
    if is_positional(change.field):
        raise ChangeNotApplicableError(
            f"{change.field}: this change was recorded before items had ids and cannot be "
            "applied again"
        )
    item_path = split_item_path(change.field)
    if item_path is None:
        parent, name = _container(data, change.field)
        parent[name] = change.new
        return
    items = _items(data, item_path.list_path)
    index = next((i for i, it in enumerate(items) if it.get("id") == item_path.item_id), None)
    if not item_path.field:
        if change.new is None:
            if index is not None:
                del items[index]
        elif index is None:
            items.append(change.new)
        else:
            items[index] = change.new
        return
    if index is None:
        raise ChangeNotApplicableError(
            f"'{change.label or item_path.item_id}' is no longer in "
            f"{item_path.list_path.replace('_', ' ')}"
        )
    items[index][item_path.field] = change.new


def apply_changes(data: dict[str, Any], changes: Iterable[FieldChange]) -> None:
    """Apply every change in order; fields outside the postmortem (review decisions) are skipped."""
    for change in changes:
        if change.field.split(".")[0] in data:
            apply_change(data, change)


def invert(changes: Sequence[FieldChange]) -> list[FieldChange]:
    """The changes that undo `changes` (applied in order)."""
    return [FieldChange(c.field, c.new, c.old, c.label) for c in reversed(changes)]


def _touch_key(path: str) -> tuple[str, str]:
    """(the item or field a change is in, the field inside an item or '')."""
    item_path = split_item_path(path)
    if item_path is None:
        return path, ""
    return f"{item_path.list_path}.{item_path.item_id}", item_path.field


@dataclass(frozen=True)
class Conflict:
    """The same field (or item) changed by both sides, to different values."""

    field: str
    label: str
    mine: Any
    theirs: Any


def find_conflicts(mine: Sequence[FieldChange], theirs: Sequence[FieldChange]) -> list[Conflict]:
    """Where `mine` and `theirs` (both from the same base) touch the same field differently.

    Two edits of different fields of one item do not conflict; an edit of an item the other
    side removed does."""
    their_last: dict[tuple[str, str], FieldChange] = {}
    for change in theirs:
        their_last[_touch_key(change.field)] = change
    conflicts = []
    for change in mine:
        owner, field = _touch_key(change.field)
        same = their_last.get((owner, field))
        whole = their_last.get((owner, ""))
        if same is not None and same.new != change.new:
            conflicts.append(Conflict(change.field, change.label, change.new, same.new))
        elif field and whole is not None and whole.new is None:
            conflicts.append(Conflict(change.field, change.label, change.new, None))
        elif (
            not field
            and change.new is None
            and any(key[0] == owner and key[1] for key in their_last)
        ):
            theirs_value = next(c.new for k, c in their_last.items() if k[0] == owner and k[1])
            conflicts.append(Conflict(change.field, change.label, None, theirs_value))
    return conflicts
