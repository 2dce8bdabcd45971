"""Stable ids for list items, and the reason a postmortem may keep its key moments out of
order (`incidents.moment_order_note`). Timeline events, participants and action items get an
`item_id` column; contributing factors, whys and lessons (JSON values of the incident) get an
`id` each, and lessons become objects ({"text", "id"}).

Ids are derived from each item's content with the rule in domain/identity.py (copied here so
that this revision never changes): `prefix-` and six hex digits of a BLAKE2b hash of the
item's identifying values, salted on a clash. A file exported before this migration therefore
imports onto the same items after it.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 22:40:00
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import sqlalchemy as sa
from alembic import op

from hindsight.storage.coltypes import UTCDateTime
from hindsight.storage.migrations.helpers import drop_parent_column

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_TABLES = {
    # table: (prefix, identifying columns)
    "timeline_events": ("ev", ("at", "text")),
    "participants": ("pa", ("name",)),
    "action_items": ("ai", ("title",)),
}
_JSON_LISTS = {
    # (column, key inside it or None): (prefix, identifying fields)
    ("analysis", "contributing_factors"): ("cf", ("category", "description")),
    ("analysis", "five_whys"): ("wy", ("question",)),
    ("lessons", None): ("ls", ("text",)),
}


def _derive(prefix: str, values: list[Any], taken: set[str]) -> str:
    parts = [v.isoformat() if isinstance(v, dt.datetime) else str(v) for v in values]
    basis = "\x1e".join(parts)
    salt = 0
    while True:
        seed = basis if salt == 0 else f"{basis}\x1f{salt}"
        candidate = f"{prefix}-{hashlib.blake2b(seed.encode(), digest_size=3).hexdigest()}"
        if candidate not in taken:
            taken.add(candidate)
            return candidate
        salt += 1


def _fill_rows(connection: sa.Connection, name: str, prefix: str, fields: tuple[str, ...]) -> None:
    columns: list[sa.ColumnClause[Any]] = [
        sa.column("id"),
        sa.column("incident_id"),
        sa.column("position"),
    ]
    columns += [sa.column(f, UTCDateTime()) if f == "at" else sa.column(f) for f in fields]
    table = sa.table(name, *columns, sa.column("item_id"))
    rows = connection.execute(
        sa.select(*columns).select_from(table).order_by(table.c.incident_id, table.c.position)
    )
    taken: dict[int, set[str]] = {}
    updates = []
    for row in rows:
        used = taken.setdefault(row.incident_id, set())
        updates.append({"row_id": row.id, "item_id": _derive(prefix, list(row[3:]), used)})
    if updates:
        connection.execute(
            table.update().where(table.c.id == sa.bindparam("row_id")),
            updates,
        )


def _with_json_ids(value: Any, key: str | None, prefix: str, fields: tuple[str, ...]) -> Any:
    container = value.get(key, []) if key else value
    taken: set[str] = set()
    items = []
    for item in container or []:
        item = {"text": item} if isinstance(item, str) else dict(item)
        if not item.get("id"):
            item["id"] = _derive(prefix, [item.get(f, "") for f in fields], taken)
        items.append(item)
    if key:
        return {**value, key: items}
    return items


def _fill_json(connection: sa.Connection, upgrade: bool) -> None:
    incidents = sa.table(
        "incidents", sa.column("id"), sa.column("analysis", sa.JSON), sa.column("lessons", sa.JSON)
    )
    for row in connection.execute(sa.select(incidents)).all():
        analysis, lessons = dict(row.analysis or {}), list(row.lessons or [])
        if upgrade:
            for (column, key), (prefix, fields) in _JSON_LISTS.items():
                if column == "analysis":
                    analysis = _with_json_ids(analysis, key, prefix, fields)
                else:
                    lessons = _with_json_ids(lessons, None, prefix, fields)
        else:
            for key in ("contributing_factors", "five_whys"):
                analysis[key] = [
                    {k: v for k, v in item.items() if k != "id"} for item in analysis.get(key, [])
                ]
            lessons = [item["text"] if isinstance(item, dict) else item for item in lessons]
        connection.execute(
            incidents.update()
            .where(incidents.c.id == row.id)
            .values(analysis=analysis, lessons=lessons)
        )


def upgrade() -> None:
    with op.batch_alter_table("incidents") as batch_op:
        batch_op.add_column(
            sa.Column("moment_order_note", sa.String(500), nullable=False, server_default="")
        )
    for name in _TABLES:
        with op.batch_alter_table(name) as batch_op:
            batch_op.add_column(sa.Column("item_id", sa.String(40), nullable=True))
    connection = op.get_bind()
    for name, (prefix, fields) in _TABLES.items():
        _fill_rows(connection, name, prefix, fields)
    _fill_json(connection, upgrade=True)
    for name in _TABLES:
        with op.batch_alter_table(name) as batch_op:
            batch_op.alter_column("item_id", existing_type=sa.String(40), nullable=False)


def downgrade() -> None:
    _fill_json(op.get_bind(), upgrade=False)
    for name in _TABLES:
        with op.batch_alter_table(name) as batch_op:
            batch_op.drop_column("item_id")
    drop_parent_column("incidents", "moment_order_note")
