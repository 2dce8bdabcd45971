"""Seconds between two stored times, computed by the database (they differ in how).

The insights read one number per response metric and incident instead of every key moment's
time: SQLite has no interval type (julianday differences, in days), PostgreSQL subtracts
timestamps and takes the epoch of the interval. Tested on both by the insights' tests.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class seconds_between(FunctionElement[float]):  # noqa: N801 - used like a SQL function
    """`seconds_between(start, end)`: end - start in seconds (NULL if either is NULL)."""

    type = Float()
    inherit_cache = True
    name = "seconds_between"


def _parts(element: seconds_between, compiler: Any, **kw: Any) -> tuple[str, str]:
    start, end = list(element.clauses)
    return compiler.process(start, **kw), compiler.process(end, **kw)


@compiles(seconds_between, "sqlite")
def _sqlite(element: seconds_between, compiler: Any, **kw: Any) -> str:
    start, end = _parts(element, compiler, **kw)
    return f"((julianday({end}) - julianday({start})) * 86400.0)"


@compiles(seconds_between, "postgresql")
def _postgresql(element: seconds_between, compiler: Any, **kw: Any) -> str:
    start, end = _parts(element, compiler, **kw)
    return f"EXTRACT(EPOCH FROM ({end} - {start}))"
