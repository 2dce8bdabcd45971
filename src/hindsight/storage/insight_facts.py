"""Keep the insights' facts (storage/insight_rows.py) in step with the incidents.

`refresh_insight_facts` recomputes the facts of some incidents (or of all) from their rows,
and the monthly rollups with them (storage/insight_rollups.py: the old facts' counts
subtracted, the new ones' added):
every write path calls it in the transaction of the change, after the change is flushed
(create, update — which covers edits, action items, restriction changes, review and
publication, recurrence links — archive and unarchive, the archive import); a delete
calls `forget_insight_facts` first (the cascade would take the facts before their counts
could be subtracted). Migration 0021 fills the tables with it for existing incidents, and
bench seeding (rows written around the services) calls it too, so there is one rule.

It reads the incidents through plain table definitions, not the ORM models, so that the
migration keeps working when the models change; the rules are those of the old per-request
queries: a key moment's time is the latest event marked with it, a response time runs between
two such moments (analysis/metrics.py METRIC_MOMENTS) and is left out when negative, both
rounded to the millisecond; publication is the first `publish` revision; an item opened when
its `opened_at` says (its incident's creation for rows without one), is late when closed after
the end of its due date (UTC), and took `closed_at - opened_at` to close.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, delete, func, insert, select

from hindsight.storage.coltypes import UTCDateTime
from hindsight.storage.insight_rollups import (
    apply_delta,
    contributions,
    current_scopes,
    old_contributions,
    rebuild_insight_rollups,
    replace_scopes,
)
from hindsight.storage.insight_rows import (
    InsightFactorRow,
    InsightIncidentRow,
    InsightItemRow,
    InsightScopeRow,
)

BATCH = 500
# (column, start moment, end moment): analysis/metrics.py METRIC_MOMENTS, by value.
_METRICS = (
    ("detect_s", "impact_started", "detected"),
    ("acknowledge_s", "detected", "acknowledged"),
    ("mitigate_s", "impact_started", "mitigated"),
    ("resolve_s", "impact_started", "resolved"),
)

_meta = sa.MetaData()
_incidents = sa.Table(
    "incidents",
    _meta,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("created_at", UTCDateTime()),
    sa.Column("severity", sa.String(8)),
    sa.Column("visibility", sa.String(20)),
    sa.Column("archived_at", UTCDateTime()),
    sa.Column("analysis", sa.JSON),
)
_events = sa.Table(
    "timeline_events",
    _meta,
    sa.Column("incident_id", sa.Integer),
    sa.Column("key_moment", sa.String(40)),
    sa.Column("at", UTCDateTime()),
)
_items = sa.Table(
    "action_items",
    _meta,
    sa.Column("incident_id", sa.Integer),
    sa.Column("position", sa.Integer),
    sa.Column("opened_at", UTCDateTime()),
    sa.Column("closed_at", UTCDateTime()),
    sa.Column("due", sa.Date),
    sa.Column("team", sa.String(200)),
    sa.Column("kind", sa.String(20)),
    sa.Column("priority", sa.String(4)),
)
_revisions = sa.Table(
    "revisions",
    _meta,
    sa.Column("incident_id", sa.Integer),
    sa.Column("action", sa.String(40)),
    sa.Column("at", UTCDateTime()),
)


def _seconds(start: dt.datetime | None, end: dt.datetime | None) -> float | None:
    if start is None or end is None:
        return None
    seconds = round((end - start).total_seconds(), 3)
    return None if seconds < 0 else seconds


def factor_categories(analysis: Any) -> set[str]:
    """The categories of an analysis's contributing factors ('' for one without)."""
    factors = analysis.get("contributing_factors") if isinstance(analysis, dict) else None
    if not isinstance(factors, list):
        return set()
    found = set()
    for factor in factors:
        category = factor.get("category") if isinstance(factor, dict) else None
        found.add("" if category is None else str(category))
    return found


def _batches(connection: Connection, ids: Iterable[int] | None) -> Iterator[list[int]]:
    if ids is None:
        every = list(connection.scalars(select(_incidents.c.id).order_by(_incidents.c.id)))
    else:
        every = sorted(set(ids))
    for first in range(0, len(every), BATCH):
        yield every[first : first + BATCH]


def _month(moment: dt.date | None) -> str | None:
    return None if moment is None else f"{moment.year:04d}-{moment.month:02d}"


def _item(row: Any, shared: dict[str, Any]) -> dict[str, Any]:
    """An item's facts: opened (or, for rows older than opening times, its incident's
    creation) and closed months, late or still due, and the seconds it took to close."""
    opened = row.opened_at or shared["created_at"]
    closed = row.closed_at
    late = closed is not None and row.due is not None and closed.date() > row.due
    return {
        **shared,
        "position": row.position,
        "opened_month": _month(opened),
        "closed_month": _month(closed),
        "due": row.due if closed is None else None,
        "late_month": _month(row.due) if late else None,
        "team": row.team,
        "kind": row.kind,
        "priority": row.priority,
        "close_s": None if closed is None else round((closed - opened).total_seconds(), 3),
    }


def _refresh(connection: Connection, ids: Sequence[int], rollups: bool) -> None:
    delta = old_contributions(connection, ids) if rollups else None
    moments: dict[int, dict[str, dt.datetime]] = {}
    for incident_id, moment, at in connection.execute(
        select(_events.c.incident_id, _events.c.key_moment, func.max(_events.c.at))
        .where(_events.c.key_moment.is_not(None), _events.c.incident_id.in_(ids))
        .group_by(_events.c.incident_id, _events.c.key_moment)
    ):
        moments.setdefault(incident_id, {})[moment] = at
    published = dict(
        connection.execute(
            select(_revisions.c.incident_id, func.min(_revisions.c.at))
            .where(_revisions.c.action == "publish", _revisions.c.incident_id.in_(ids))
            .group_by(_revisions.c.incident_id)
        ).all()
    )
    items: dict[int, list[Any]] = {}
    for item in connection.execute(select(_items).where(_items.c.incident_id.in_(ids))):
        items.setdefault(item.incident_id, []).append(item)
    facts: list[dict[str, Any]] = []
    factors: list[dict[str, Any]] = []
    item_facts: list[dict[str, Any]] = []
    for row in connection.execute(select(_incidents).where(_incidents.c.id.in_(ids))):
        shared = {
            "incident_id": row.id,
            "created_at": row.created_at,
            "severity": row.severity,
            "restricted": row.visibility == "restricted",
            "archived": row.archived_at is not None,
        }
        found = moments.get(row.id, {})
        first = published.get(row.id)
        facts.append(
            {
                **shared,
                "month": f"{row.created_at.year:04d}-{row.created_at.month:02d}",
                **{c: _seconds(found.get(a), found.get(b)) for c, a, b in _METRICS},
                "publish_s": None
                if first is None
                else round((first - row.created_at).total_seconds(), 3),
            }
        )
        factors += [{**shared, "category": c} for c in sorted(factor_categories(row.analysis))]
        item_facts += [_item(item, shared) for item in items.get(row.id, [])]
    for table in (InsightItemRow, InsightFactorRow, InsightIncidentRow):
        connection.execute(delete(table).where(table.incident_id.in_(ids)))
    for table, rows in (
        (InsightIncidentRow, facts),
        (InsightFactorRow, factors),
        (InsightItemRow, item_facts),
    ):
        if rows:
            connection.execute(insert(table), rows)
    if delta is not None:
        present = [fact["incident_id"] for fact in facts]
        scopes: dict[int, set[str]] = {incident_id: set() for incident_id in ids}
        scopes.update(current_scopes(connection, present))
        apply_delta(connection, contributions(facts, factors, item_facts, scopes, into=delta))
        replace_scopes(connection, scopes)


def refresh_insight_facts(
    connection: Connection, incident_ids: Iterable[int] | None, *, rollups: bool = True
) -> None:
    """Recompute the facts of these incidents (None: of every incident), in batches, and
    their counts in the rollups (`rollups=False`: leave the rollups alone, for migrations
    older than them); an id with no incident any more loses its facts."""
    for ids in _batches(connection, incident_ids):
        _refresh(connection, ids, rollups and incident_ids is not None)
    if rollups and incident_ids is None:
        rebuild_insight_rollups(connection)


def forget_insight_facts(connection: Connection, incident_ids: Sequence[int]) -> None:
    """Subtract these incidents' counts from the rollups and drop their facts: before the
    incidents are deleted."""
    apply_delta(connection, old_contributions(connection, incident_ids))
    for table in (InsightItemRow, InsightFactorRow, InsightIncidentRow, InsightScopeRow):
        connection.execute(delete(table).where(table.incident_id.in_(incident_ids)))
