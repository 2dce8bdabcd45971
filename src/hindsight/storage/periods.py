"""Calendar months and days of stored values, and the categories inside the analysis JSON,
computed by the database (the two differ in how), so the insights count with GROUP BY.

Stored times are UTC (storage/coltypes.py: naive UTC text on SQLite, timestamptz on
PostgreSQL), so a month or a day here is a UTC one, as analysis/insights.py defines it.
Tested on both databases by the insights' tests.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Date, FromClause, String, func, text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement


class month_of_time(FunctionElement[str]):  # noqa: N801 - used like a SQL function
    """'2024-03' for a stored time in March 2024 (UTC)."""

    type = String()
    inherit_cache = True
    name = "month_of_time"


class month_of_date(FunctionElement[str]):  # noqa: N801
    """'2024-03' for a date in March 2024."""

    type = String()
    inherit_cache = True
    name = "month_of_date"


class utc_date(FunctionElement[Any]):  # noqa: N801
    """The UTC calendar day of a stored time."""

    type = Date()
    inherit_cache = True
    name = "utc_date"


def _argument(element: FunctionElement[Any], compiler: Any, **kw: Any) -> str:
    (value,) = list(element.clauses)
    return str(compiler.process(value, **kw))


# SQLite keeps times as 'YYYY-MM-DD HH:MM:SS.ffffff' UTC text and dates as 'YYYY-MM-DD'
# (SQLAlchemy's storage format): a prefix is the month or the day, read about three times
# faster than strftime() parses it.
@compiles(month_of_time, "sqlite")
@compiles(month_of_date, "sqlite")
def _sqlite_month(element: FunctionElement[str], compiler: Any, **kw: Any) -> str:
    return f"substr({_argument(element, compiler, **kw)}, 1, 7)"


@compiles(month_of_time, "postgresql")
def _postgresql_month(element: FunctionElement[str], compiler: Any, **kw: Any) -> str:
    return f"to_char({_argument(element, compiler, **kw)} AT TIME ZONE 'UTC', 'YYYY-MM')"


@compiles(month_of_date, "postgresql")
def _postgresql_date_month(element: FunctionElement[str], compiler: Any, **kw: Any) -> str:
    return f"to_char({_argument(element, compiler, **kw)}, 'YYYY-MM')"


@compiles(utc_date, "sqlite")
def _sqlite_day(element: FunctionElement[Any], compiler: Any, **kw: Any) -> str:
    return f"substr({_argument(element, compiler, **kw)}, 1, 10)"


@compiles(utc_date, "postgresql")
def _postgresql_day(element: FunctionElement[Any], compiler: Any, **kw: Any) -> str:
    return f"CAST({_argument(element, compiler, **kw)} AT TIME ZONE 'UTC' AS DATE)"


def plan_without_jit(session: Session) -> None:
    """PostgreSQL: no JIT compilation for the rest of this transaction. The insights' grouped
    queries read tens of thousands of rows in tens of milliseconds; the planner's row
    estimates for JSON arrays (100 per call) push their cost past `jit_above_cost`, and
    compiling took longer than running them. Nothing on SQLite."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL jit = off"))


def json_array_items(
    session: Session, document: Any, key: str, field: str
) -> tuple[FromClause, ColumnElement[str]]:
    """A table of the elements of the array `document[key]` (a JSON column), to join
    laterally, and the text of each element's `field` ('' when missing)."""
    value: ColumnElement[Any]
    if session.get_bind().dialect.name == "postgresql":
        elements = func.json_array_elements(document.op("->")(key)).table_valued("value")
        table = elements.lateral()
        value = table.c.value.op("->>")(field)
    else:
        table = func.json_each(document, f"$.{key}").table_valued("value")
        value = func.json_extract(table.c.value, f"$.{field}")
    return table, func.coalesce(func.cast(value, String), "")
