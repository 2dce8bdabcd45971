"""Monthly rollups of the insights' facts, so the dashboard reads counts, not incidents.

What the rollups hold (storage/insight_rows.InsightRollupRow): for the incidents that are not
archived, per scope — every incident (''), a service ('s:NAME') or a participant's team
('t:NAME') — per visibility (restricted ones apart, read only by those who see every
incident), per severity (and '*' for any), per month the incident was created in (UTC), one
row per measure, key and bucket:

| measure | key | bucket | n, total |
|---|---|---|---|
| incidents | the severity | 0 | incidents |
| r:METRIC | '' | histogram bucket of the seconds | response times, their sum |
| b:METRIC | '' | distribution band (analysis/insights.BUCKETS) | response times |
| publish | '' | histogram bucket | SEV1-SEV2 incidents published, seconds to publish |
| factor | the category | 0 | incidents with a factor of it |
| opened / closed | the item's month opened / closed | 0 | action items |
| team_open / team_closed | the item's team | 0 | open / closed items |
| due_m | 'YYYY-MM<TAB>team' of an open item's due date | 0 | open items |
| late | the due month of an item closed late | 0 | items |
| close_kind / close_priority | the kind / priority | histogram bucket | closed items, seconds |

Open items due in the current month are overdue from their day on: the dashboard counts those
from the facts (an index on the due date), not from here, so the rollups need no row per day.
Histograms are domain/histograms.py's. An incident's part is a pure function of its facts
(`contributions`); `apply_delta` adds the new part and subtracts the old one in one upsert
per changed row (INSERT ... ON CONFLICT DO UPDATE n = n + excluded.n on both databases), in
key order, so concurrent writers neither lose a count nor deadlock. `rebuild_insight_rollups`
recomputes everything from the facts (migration 0023, bulk loads).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, delete, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from hindsight.domain.histograms import SERIOUS, band_of, bucket_of
from hindsight.storage.insight_rows import (
    METRIC_COLUMNS,
    InsightFactorRow,
    InsightIncidentRow,
    InsightItemRow,
    InsightRollupRow,
    InsightScopeRow,
)

ANY_SEVERITY = "*"
EVERY_INCIDENT = ""
# The measures the dashboard reads for a range of months.
MEASURES = (
    "incidents",
    *(f"r:{name}" for name in METRIC_COLUMNS),
    *(f"b:{name}" for name in METRIC_COLUMNS),
    "publish",
    "factor",
    "opened",
    "closed",
    "team_open",
    "team_closed",
    "due_m",
    "late",
    "close_kind",
    "close_priority",
)
# scope, restricted, severity, measure, month, key, bucket
Key = tuple[str, bool, str, str, str, str, int]
Delta = dict[Key, list[float]]  # -> [n, total]

_meta = sa.MetaData()
_services = sa.Table(
    "incident_services",
    _meta,
    sa.Column("incident_id", sa.Integer),
    sa.Column("name", sa.String(200)),
)
_participants = sa.Table(
    "participants",
    _meta,
    sa.Column("incident_id", sa.Integer),
    sa.Column("team", sa.String(200)),
)
_KEY_COLUMNS = ("scope", "restricted", "severity", "measure", "month", "key", "bucket")


def service_scope(name: str) -> str:
    """The scope of a service's incidents."""
    return f"s:{name}"


def team_scope(name: str) -> str:
    """The scope of the incidents a team took part in."""
    return f"t:{name}"


def current_scopes(connection: Connection, ids: Sequence[int]) -> dict[int, set[str]]:
    """Each incident's scopes now: every incident, its services, its participants' teams."""
    scopes: dict[int, set[str]] = {incident_id: {EVERY_INCIDENT} for incident_id in ids}
    for incident_id, name in connection.execute(
        select(_services.c.incident_id, _services.c.name).where(_services.c.incident_id.in_(ids))
    ):
        scopes[incident_id].add(service_scope(name))
    for incident_id, team in connection.execute(
        select(_participants.c.incident_id, _participants.c.team).where(
            _participants.c.incident_id.in_(ids), _participants.c.team != ""
        )
    ):
        scopes[incident_id].add(team_scope(team))
    return scopes


def _month(moment: dt.datetime) -> str:
    return f"{moment.year:04d}-{moment.month:02d}"


def _counted(fact: Mapping[str, Any]) -> bool:
    return not fact["archived"]


class _Adder:
    """Adds one fact's counts to a delta under each of its incident's scopes, for its
    severity and for any."""

    def __init__(self, delta: Delta, scopes: Mapping[int, Iterable[str]], sign: int) -> None:
        self.delta, self.scopes, self.sign = delta, scopes, sign

    def __call__(
        self,
        fact: Mapping[str, Any],
        month: str,
        measure: str,
        key: str = "",
        bucket: int = 0,
        value: float = 0.0,
    ) -> None:
        restricted = bool(fact["restricted"])
        for scope in self.scopes.get(fact["incident_id"], ()):
            for severity in (fact["severity"], ANY_SEVERITY):
                found = self.delta[(scope, restricted, severity, measure, month, key, bucket)]
                found[0] += self.sign
                found[1] += self.sign * value

    def histogram(
        self, fact: Mapping[str, Any], month: str, measure: str, key: str, seconds: float
    ) -> None:
        seconds = max(0.0, seconds)
        self(fact, month, measure, key, bucket_of(seconds), seconds)


def _add_incident(add: _Adder, fact: Mapping[str, Any]) -> None:
    month = fact["month"]
    add(fact, month, "incidents", fact["severity"])
    for name, column in METRIC_COLUMNS.items():
        seconds = fact[column]
        if seconds is not None:
            add.histogram(fact, month, f"r:{name}", "", seconds)
            add(fact, month, f"b:{name}", "", band_of(seconds / 60))
    if fact["severity"] in SERIOUS and fact["publish_s"] is not None:
        add.histogram(fact, month, "publish", "", fact["publish_s"])


def _add_item(add: _Adder, fact: Mapping[str, Any]) -> None:
    month, team = _month(fact["created_at"]), fact["team"]
    add(fact, month, "opened", fact["opened_month"])
    if fact["closed_month"] is not None:
        add(fact, month, "closed", fact["closed_month"])
        add(fact, month, "team_closed", team)
    else:
        add(fact, month, "team_open", team)
    due: dt.date | None = fact["due"]
    if due is not None:
        due_month = f"{due.year:04d}-{due.month:02d}"
        add(fact, month, "due_m", f"{due_month}\t{team}")
    if fact["late_month"] is not None:
        add(fact, month, "late", fact["late_month"])
    if fact["close_s"] is not None:
        add.histogram(fact, month, "close_kind", fact["kind"], fact["close_s"])
        add.histogram(fact, month, "close_priority", fact["priority"], fact["close_s"])


def contributions(
    incidents: Iterable[Mapping[str, Any]],
    factors: Iterable[Mapping[str, Any]],
    items: Iterable[Mapping[str, Any]],
    scopes: Mapping[int, Iterable[str]],
    sign: int = 1,
    into: Delta | None = None,
) -> Delta:
    """What these facts count in the rollups (`sign` -1: to subtract), added to `into`."""
    delta: Delta = into if into is not None else defaultdict(lambda: [0.0, 0.0])
    add = _Adder(delta, scopes, sign)
    for fact in incidents:
        if _counted(fact):
            _add_incident(add, fact)
    for fact in factors:
        if _counted(fact):
            add(fact, _month(fact["created_at"]), "factor", fact["category"])
    for fact in items:
        if _counted(fact):
            _add_item(add, fact)
    return delta


def _facts(connection: Connection, row: Any, ids: Sequence[int]) -> list[Any]:
    """The stored facts (as mappings) of these incidents in one facts table."""
    query = select(row).where(row.incident_id.in_(ids))
    return [
        found._mapping for found in connection.execute(query.with_only_columns(*row.__table__.c))
    ]


def old_contributions(connection: Connection, ids: Sequence[int]) -> Delta:
    """What the stored facts of these incidents count now, negated (to subtract)."""
    scopes: dict[int, set[str]] = defaultdict(set)
    for incident_id, scope in connection.execute(
        select(InsightScopeRow.incident_id, InsightScopeRow.scope).where(
            InsightScopeRow.incident_id.in_(ids)
        )
    ):
        scopes[incident_id].add(scope)
    if not scopes:
        return defaultdict(lambda: [0.0, 0.0])
    return contributions(
        _facts(connection, InsightIncidentRow, ids),
        _facts(connection, InsightFactorRow, ids),
        _facts(connection, InsightItemRow, ids),
        scopes,
        sign=-1,
    )


def _rows(delta: Delta, changed_only: bool) -> list[dict[str, Any]]:
    rows = []
    for key in sorted(delta):
        n, total = delta[key]
        if changed_only and n == 0 and abs(total) < 1e-9:
            continue
        rows.append({**dict(zip(_KEY_COLUMNS, key, strict=True)), "n": round(n), "total": total})
    return rows


def apply_delta(connection: Connection, delta: Delta) -> None:
    """Add each changed count of `delta` to the rollups (a row is created at its first)."""
    rows = _rows(delta, changed_only=True)
    if not rows:
        return
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(InsightRollupRow)
    statement = statement.on_conflict_do_update(
        index_elements=list(_KEY_COLUMNS),
        set_={
            "n": InsightRollupRow.n + statement.excluded.n,
            "total": InsightRollupRow.total + statement.excluded.total,
        },
    )
    connection.execute(statement, rows)


def replace_scopes(connection: Connection, scopes: Mapping[int, Iterable[str]]) -> None:
    """Record the scopes these incidents are now counted under."""
    ids = list(scopes)
    connection.execute(delete(InsightScopeRow).where(InsightScopeRow.incident_id.in_(ids)))
    rows = [{"incident_id": i, "scope": s} for i, found in scopes.items() for s in sorted(found)]
    if rows:
        connection.execute(insert(InsightScopeRow), rows)


def rebuild_insight_rollups(connection: Connection, batch: int = 2000) -> None:
    """Recompute every rollup and scope from the stored facts."""
    connection.execute(delete(InsightRollupRow))
    connection.execute(delete(InsightScopeRow))
    every = list(connection.scalars(select(InsightIncidentRow.incident_id).order_by("incident_id")))
    delta: Delta = defaultdict(lambda: [0.0, 0.0])
    for first in range(0, len(every), batch):
        ids = every[first : first + batch]
        scopes = current_scopes(connection, ids)
        contributions(
            _facts(connection, InsightIncidentRow, ids),
            _facts(connection, InsightFactorRow, ids),
            _facts(connection, InsightItemRow, ids),
            scopes,
            into=delta,
        )
        replace_scopes(connection, scopes)
    rows = _rows(delta, changed_only=True)
    for first in range(0, len(rows), 5000):
        connection.execute(insert(InsightRollupRow), rows[first : first + 5000])
