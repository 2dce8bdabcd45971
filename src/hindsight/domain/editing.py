"""Change fields of a postmortem by path ('impact.users_affected', 'timeline.ev-3f9a2c.text').

List items are addressed by their id; a position ('timeline.3') is accepted as a convenience
and resolved to the id of the item there first (`resolve_path`), so the change that is applied
and recorded always names the item, never its place.

Every edit goes through the JSON form and back through validation, so a path edit can never
produce a postmortem that the domain would refuse. Several fields set together are validated
together (`set_fields`), so their order does not matter.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

from hindsight.domain.codec import postmortem_from_dict, postmortem_to_dict
from hindsight.domain.identity import ID_PATTERN
from hindsight.domain.incidents import Postmortem
from hindsight.errors import HindsightError

READ_ONLY = frozenset({"key"})


class FieldPathError(HindsightError):
    """A path that names no field."""


def _find_in_list(container: list[Any], part: str, path: str) -> int:
    if ID_PATTERN.match(part):
        for index, item in enumerate(container):
            if isinstance(item, dict) and item.get("id") == part:
                return index
        raise FieldPathError(f"{path}: no item has the id '{part}' (it may have been removed)")
    if part.isdigit() and int(part) < len(container):
        return int(part)
    raise FieldPathError(
        f"{path}: '{part}' is neither an item id (like ev-3f9a2c) nor a position in this list "
        f"(it has {len(container)} items, numbered from 0)"
    )


def _step(container: Any, part: str, path: str) -> tuple[Any, str | int]:
    if isinstance(container, dict):
        if part not in container:
            raise FieldPathError(
                f"{path}: unknown field '{part}'; fields here: {', '.join(container)}"
            )
        return container, part
    if isinstance(container, list):
        return container, _find_in_list(container, part, path)
    raise FieldPathError(f"{path}: '{part}' goes inside a value that has no fields")


def _parts(path: str) -> list[str]:
    parts = [part for part in path.split(".") if part]
    if not parts:
        raise FieldPathError("the field path is empty; for example: impact.users_affected")
    if parts[0] in READ_ONLY:
        raise FieldPathError(f"{path}: '{parts[0]}' cannot be changed")
    if parts[-1] == "id" and len(parts) > 1:
        raise FieldPathError(f"{path}: an item's id is assigned once and cannot be changed")
    return parts


def _locate(data: dict[str, Any], path: str) -> tuple[Any, str | int]:
    parts = _parts(path)
    container: Any = data
    for part in parts[:-1]:
        parent, name = _step(container, part, path)
        container = parent[name]
    return _step(container, parts[-1], path)


def _canonical(data: dict[str, Any], path: str) -> str:
    """The path with every list position replaced by the id of the item there."""
    parts = _parts(path)
    container: Any = data
    canonical = []
    for part in parts:
        parent, name = _step(container, part, path)
        item = parent[name]
        if isinstance(parent, list) and isinstance(item, dict) and item.get("id"):
            canonical.append(str(item["id"]))
        else:
            canonical.append(part)
        container = item
    return ".".join(canonical)


def resolve_path(postmortem: Postmortem, path: str) -> str:
    """`timeline.3.text` → `timeline.ev-3f9a2c.text` (raises FieldPathError for no such field)."""
    return _canonical(postmortem_to_dict(postmortem), path)


def coerce_text(current: Any, text: str) -> Any:
    """Turn text typed by a person into a value of the kind the field holds.

    A text field takes the text as is. Other fields read it as JSON when it is JSON
    (`1200`, `null`, `["a", "b"]`), otherwise as text (`SEV2`, `automated_alert`).
    """
    if isinstance(current, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


def _assign(data: dict[str, Any], path: str, value: Any) -> None:
    parent: Any
    name: Any
    parent, name = _locate(data, path)
    if isinstance(parent, list) and isinstance(parent[name], dict) and isinstance(value, dict):
        # A whole item replaced: it keeps its id.
        value = {**value, "id": parent[name].get("id", "")}
    parent[name] = coerce_text(parent[name], value) if isinstance(value, str) else value


def set_fields(postmortem: Postmortem, values: Mapping[str, Any]) -> Postmortem:
    """A copy with every field of `values` (path → value) set, validated once, as one change."""
    data = copy.deepcopy(postmortem_to_dict(postmortem))
    for path, value in values.items():
        _assign(data, path, value)
    return postmortem_from_dict(data)


def set_field(postmortem: Postmortem, path: str, value: Any) -> Postmortem:
    """A copy of `postmortem` with the field at `path` set to `value` (validated)."""
    return set_fields(postmortem, {path: value})


def append_item(postmortem: Postmortem, path: str, item: Any) -> Postmortem:
    """A copy with `item` appended to the list at `path` (it gets a new id)."""
    data = copy.deepcopy(postmortem_to_dict(postmortem))
    parent, name = _locate(data, path)
    if not isinstance(parent[name], list):
        raise FieldPathError(f"{path}: is not a list, so nothing can be added to it")
    if isinstance(item, dict):
        item = {key: value for key, value in item.items() if key != "id"}
    parent[name].append(item)
    return postmortem_from_dict(data)


def remove_item(postmortem: Postmortem, path: str) -> Postmortem:
    """A copy without the list item at `path` (which ends with its id or position)."""
    data = copy.deepcopy(postmortem_to_dict(postmortem))
    parent, name = _locate(data, path)
    if not isinstance(parent, list) or not isinstance(name, int):
        raise FieldPathError(f"{path}: name a list item by its id, e.g. timeline.ev-3f9a2c")
    del parent[name]
    return postmortem_from_dict(data)
