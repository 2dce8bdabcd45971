"""Change one field of a postmortem by its path ('impact.users_affected', 'timeline.3.text').

Every edit goes through the JSON form and back through validation, so a path edit can never
produce a postmortem that the domain would refuse.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from hindsight.domain.codec import postmortem_from_dict, postmortem_to_dict
from hindsight.domain.incidents import Postmortem
from hindsight.errors import HindsightError

READ_ONLY = frozenset({"key"})


class FieldPathError(HindsightError):
    """A path that names no field."""


def _step(container: Any, part: str, path: str) -> tuple[Any, str | int]:
    if isinstance(container, dict):
        if part not in container:
            raise FieldPathError(
                f"{path}: unknown field '{part}'; fields here: {', '.join(container)}"
            )
        return container, part
    if isinstance(container, list):
        if not part.isdigit() or int(part) >= len(container):
            raise FieldPathError(
                f"{path}: '{part}' is not an index of this list (it has {len(container)} items, "
                "numbered from 0)"
            )
        return container, int(part)
    raise FieldPathError(f"{path}: '{part}' goes inside a value that has no fields")


def _locate(data: dict[str, Any], path: str) -> tuple[Any, str | int]:
    parts = [part for part in path.split(".") if part]
    if not parts:
        raise FieldPathError("the field path is empty; for example: impact.users_affected")
    if parts[0] in READ_ONLY:
        raise FieldPathError(f"{path}: '{parts[0]}' cannot be changed")
    container: Any = data
    for part in parts[:-1]:
        parent, name = _step(container, part, path)
        container = parent[name]
    return _step(container, parts[-1], path)


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


def set_field(postmortem: Postmortem, path: str, value: Any) -> Postmortem:
    """A copy of `postmortem` with the field at `path` set to `value` (validated)."""
    data = copy.deepcopy(postmortem_to_dict(postmortem))
    parent, name = _locate(data, path)
    parent[name] = coerce_text(parent[name], value) if isinstance(value, str) else value
    return postmortem_from_dict(data)


def append_item(postmortem: Postmortem, path: str, item: Any) -> Postmortem:
    """A copy with `item` appended to the list at `path`."""
    data = copy.deepcopy(postmortem_to_dict(postmortem))
    parent, name = _locate(data, path)
    if not isinstance(parent[name], list):
        raise FieldPathError(f"{path}: is not a list, so nothing can be added to it")
    parent[name].append(item)
    return postmortem_from_dict(data)


def remove_item(postmortem: Postmortem, path: str) -> Postmortem:
    """A copy without the list item at `path` (which ends with its index)."""
    data = copy.deepcopy(postmortem_to_dict(postmortem))
    parent, name = _locate(data, path)
    if not isinstance(parent, list) or not isinstance(name, int):
        raise FieldPathError(f"{path}: name a list item by its index, e.g. timeline.3")
    del parent[name]
    return postmortem_from_dict(data)
