"""Fitting a table's columns to the terminal width."""

from __future__ import annotations

from hindsight.cli.layout import ColumnFit, fit_columns

COLUMNS = [
    ColumnFit("Key", 31, 0),
    ColumnFit("Title", 60, 2, shrink_to=20),
    ColumnFit("Severity", 8, 1),
    ColumnFit("Services", 40, 3, shrink_to=12),
]


def test_columns_are_kept_by_priority_at_their_smallest_then_widened_with_what_is_left() -> None:
    # Each column costs two cells of padding: 33 + 22 + 10 + 14 = 79 of 80.
    assert fit_columns(COLUMNS, 80) == {"Key": 31, "Title": 21, "Severity": 8, "Services": 12}
    assert fit_columns(COLUMNS, 200) == {"Key": 31, "Title": 60, "Severity": 8, "Services": 40}
    # The title does not fit at 20 cells; the services do, and widen into the rest.
    assert fit_columns(COLUMNS, 60) == {"Key": 31, "Severity": 8, "Services": 15}


def test_the_key_is_kept_whole_even_when_nothing_else_fits() -> None:
    assert fit_columns(COLUMNS, 20) == {"Key": 31}
