"""Fitting a table to the terminal: which columns to show and how wide, decided before Rich
lays it out (Rich would otherwise squeeze every column, down to nothing, to keep them all)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# What a column costs beyond its content: one space either side (Rich's default padding).
PADDING = 2


@dataclass(frozen=True)
class ColumnFit:
    """One column as the table wants it.

    `natural` is the width of its widest cell (header included). A column with a `shrink_to`
    may be narrowed to that many cells, its values ellipsised; one without is shown whole or not
    at all. `priority` orders the columns for keeping: 0 is always shown.
    """

    name: str
    natural: int
    priority: int
    shrink_to: int | None = None


def fit_columns(columns: Sequence[ColumnFit], width: int) -> dict[str, int]:
    """The columns to show at `width` terminal cells, in their original order, with the width
    of each. Columns are kept by priority while they fit at their smallest; what is left of
    the width then widens the shrinkable ones, in priority order, up to their natural width."""
    chosen: dict[str, int] = {}
    used = 0
    for column in sorted(columns, key=lambda c: c.priority):
        smallest = min(column.natural, column.shrink_to or column.natural)
        if column.priority == 0 or used + smallest + PADDING <= width:
            chosen[column.name] = smallest
            used += smallest + PADDING
    for column in sorted(columns, key=lambda c: c.priority):
        if column.name in chosen and column.shrink_to is not None:
            extra = max(0, min(column.natural - chosen[column.name], width - used))
            chosen[column.name] += extra
            used += extra
    return {c.name: chosen[c.name] for c in columns if c.name in chosen}
