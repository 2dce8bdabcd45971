"""What changed between two versions of a postmortem, field by field, for the revision history."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from hindsight.domain.codec import postmortem_to_dict
from hindsight.domain.incidents import Postmortem


@dataclass(frozen=True)
class FieldChange:
    """One changed value: `field` is a dotted path such as `timeline.3.text` or `impact`."""

    field: str
    old: Any
    new: Any


_EMPTY: tuple[Any, ...] = (None, "", [], {})


def _flatten(value: Any, prefix: str) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict) and value:
        for name, item in value.items():
            yield from _flatten(item, f"{prefix}.{name}" if prefix else name)
    elif isinstance(value, list) and value:
        for index, item in enumerate(value):
            yield from _flatten(item, f"{prefix}.{index}")
    else:
        yield prefix, value


def diff_postmortems(old: Postmortem | None, new: Postmortem) -> list[FieldChange]:
    """Every leaf value that differs, in document order; `old=None` means it was created."""
    before = dict(_flatten(postmortem_to_dict(old), "")) if old is not None else {}
    after = dict(_flatten(postmortem_to_dict(new), ""))
    changes = [
        FieldChange(field=path, old=before.get(path), new=value)
        for path, value in after.items()
        if (path in before and before[path] != value)
        or (path not in before and value not in _EMPTY)
    ]
    changes.extend(
        FieldChange(field=path, old=value, new=None)
        for path, value in before.items()
        if path not in after and value not in _EMPTY
    )
    return changes
