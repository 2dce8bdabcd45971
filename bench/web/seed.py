"""Seed a database with N incidents (~50 timeline events, ~5 action items each), fast.

Rows are inserted in bulk through the storage tables (not the services, which validate and
record history one postmortem at a time); a sample is read back through the services to be
sure the data is what the application expects. The search index is filled batch by batch in
the same transactions (storage/search_index.reindex_incidents, as the services do), and so are
the insights' facts (storage/insight_facts.refresh_insight_facts).

`realistic=True` (bench/search) writes prose taken from the real postmortems in
../shared/data/postmortems (titles, summaries, causes, timeline entries, lessons and action
items are lines of real reports, shuffled), so search sees real vocabulary and lengths.
Usage:
    python bench/web/seed.py DATABASE_URL COUNT [--realistic]
"""

from __future__ import annotations

import datetime as dt
import random
import re
import sys
import time
from functools import cache
from pathlib import Path
from typing import Any

from psycopg.types.json import Json
from sqlalchemy import JSON, Connection, insert

from hindsight.domain.identity import basis_text, derive_item_id
from hindsight.services.accounts import create_token, create_user
from hindsight.services.database import open_database
from hindsight.services.incidents import get_postmortem
from hindsight.storage.insight_facts import refresh_insight_facts
from hindsight.storage.models import (
    ActionItemRow,
    IncidentMemberRow,
    IncidentRow,
    ServiceRow,
    TagRow,
    TimelineEventRow,
)
from hindsight.storage.search_index import reindex_incidents

REPORTS = Path(__file__).resolve().parents[3] / "shared" / "data" / "postmortems"
_MARKUP = re.compile(r"^[#>*\-+|\d.\s]+|[*_`|\[\]]+|\(https?://[^)]*\)")

SERVICES = ["checkout", "payments", "search", "auth", "api", "web", "db", "queue", "cdn", "dns"]
SEVERITIES = ["SEV1", "SEV2", "SEV3", "SEV4", "SEV5"]
STATUSES = ["investigating", "identified", "monitoring", "resolved"]
REVIEWS = ["draft", "in_review", "approved", "published"]
KINDS = ["note", "observation", "alert", "action", "deploy", "communication", "log"]
MOMENTS = ["impact_started", "detected", "acknowledged", "mitigated", "resolved"]
BATCH = 1000


@cache
def real_reports() -> tuple[tuple[str, ...], ...]:
    """The lines of prose of each real postmortem (markup stripped, at least 4 words each)."""
    found: list[tuple[str, ...]] = []
    for path in sorted(REPORTS.rglob("*.md")):
        lines = []
        for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
            line = " ".join(_MARKUP.sub(" ", raw).split())
            if len(line.split()) >= 4 and not line.startswith(("---", "<")):
                lines.append(line)
        if lines:
            found.append(tuple(lines))
    if not found:
        raise SystemExit(f"no postmortems under {REPORTS} for realistic text")
    return tuple(found)


class Prose:
    """Where the seeded text comes from: numbered placeholders, or lines of real reports.

    Each realistic incident takes most of its lines from one real report (its theme) and a
    few from any other, so incidents differ as real ones do instead of all sharing one
    vocabulary (which would make every word match nearly every incident)."""

    def __init__(self, realistic: bool, rng: random.Random) -> None:
        self.reports = real_reports() if realistic else ()
        self.lines = tuple(line for report in self.reports for line in report)
        self.rng = rng
        self.theme: tuple[str, ...] = ()

    def start_incident(self) -> None:
        if self.reports:
            self.theme = self.rng.choice(self.reports)

    def line(self, fallback: str, words: int = 40) -> str:
        if not self.lines:
            return fallback
        pool = self.theme if self.theme and self.rng.random() < 0.8 else self.lines
        return " ".join(self.rng.choice(pool).split()[:words])


def _incident(number: int, rng: random.Random, prose: Prose | None = None) -> dict[str, Any]:
    prose = prose or Prose(False, rng)
    created = dt.datetime(2020, 1, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=37 * number)
    lesson = prose.line("Seeded lesson", 20)
    return {
        "id": number + 1,
        "key": f"{created:%Y-%m-%d}-incident-{number}",
        "title": prose.line(f"Incident {number}: {rng.choice(SERVICES)} degraded", 10)[:200],
        "summary": " ".join(prose.line("Seeded.") for _ in range(2 if prose.lines else 1)),
        "severity": rng.choice(SEVERITIES),
        "status": rng.choice(STATUSES),
        "review_status": rng.choice(REVIEWS),
        "visibility": "restricted" if number % 50 == 0 else "internal",
        "analysis": {
            "trigger": prose.line(""),
            "root_causes": [prose.line("Seeded cause")],
            "contributing_factors": [],
            "five_whys": [],
        },
        "impact": {
            "users_affected": rng.randint(0, 10**5),
            "failed_requests": None,
            "downtime_minutes": None,
            "slo_target_percent": None,
            "error_budget_burned_percent": None,
            "support_tickets": None,
            "data_loss": {
                k: None
                for k in (
                    "records_lost",
                    "records_recovered",
                    "records_unrecoverable",
                    "rpo_target_minutes",
                    "rpo_achieved_minutes",
                    "rto_target_minutes",
                    "rto_achieved_minutes",
                )
            },
            "cost": {"responder_hours": None, "business_cost": None, "currency": None},
            "narrative": prose.line(""),
        },
        "response": {
            "detection_method": None,
            "detection_notes": "",
            "went_well": [],
            "went_wrong": [prose.line("")] if prose.lines else [],
            "got_lucky": [],
            "communications": "",
            "teams": [],
        },
        "lessons": [{"text": lesson, "id": derive_item_id("ls", lesson)}],
        "created_at": created,
        "updated_at": created,
        "version": 1,
    }


def _children(
    number: int, rng: random.Random, prose: Prose | None = None
) -> dict[str, list[dict[str, Any]]]:
    prose = prose or Prose(False, rng)
    incident_id = number + 1
    start = dt.datetime(2020, 1, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=37 * number)
    events = []
    count = rng.randint(45, 55)
    marked = dict(zip((0, 5, 8, 20, count - 1), MOMENTS, strict=True))
    for position in range(count):
        at = start + dt.timedelta(minutes=2 * position)
        text = prose.line(f"Event {position} of incident {number}", 25)
        events.append(
            {
                "incident_id": incident_id,
                "position": position,
                "item_id": derive_item_id("ev", basis_text([at, text])),
                "at": at,
                "zone": "UTC",
                "text": text,
                "kind": rng.choice(KINDS),
                "actor": f"user{rng.randint(1, 40)}",
                "source": "seed",
                "key_moment": marked.get(position),
                "provenance": [{"origin": "seed.log", "locator": f"L{position}"}],
            }
        )
    titles = [prose.line(f"Fix thing {p}", 12) for p in range(rng.randint(4, 6))]
    # Ids unique within the incident, as the services make them (realistic titles repeat).
    item_ids: list[str] = []
    for title in titles:
        item_ids.append(derive_item_id("ai", title, item_ids))
    actions = [
        {
            "incident_id": incident_id,
            "position": p,
            "item_id": item_id,
            "title": title,
            "kind": "prevent",
            "owner": f"team{p}",
            "priority": "P3",
            "due": None,
            "status": "open",
            "reason": "",
            "tracker_url": "",
        }
        for p, (title, item_id) in enumerate(zip(titles, item_ids, strict=True))
    ]
    services = [{"incident_id": incident_id, "position": 0, "name": rng.choice(SERVICES)}]
    tags = [{"incident_id": incident_id, "position": 0, "name": f"tag{number % 20}"}]
    return {"events": events, "actions": actions, "services": services, "tags": tags}


def _batch(
    numbers: range, rng: random.Random, prose: Prose
) -> tuple[list[dict[str, list[dict[str, Any]]]], list[dict[str, Any]]]:
    if not prose.lines:  # the order bench/web has always drawn its random numbers in
        return [_children(n, rng) for n in numbers], [_incident(n, rng) for n in numbers]
    children, incidents = [], []
    for n in numbers:
        prose.start_incident()
        children.append(_children(n, rng, prose))
        incidents.append(_incident(n, rng, prose))
    return children, incidents


def _insert(connection: Connection, table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert `rows`; on PostgreSQL with COPY: psycopg sends an executemany as one statement
    per row, and seeding waited on those (43 incidents a second, against SQLite's 190)."""
    if not rows:
        return
    if connection.dialect.name != "postgresql":
        connection.execute(insert(table), rows)
        return
    columns = [c for c in table.__table__.columns if c.name in rows[0]]
    json = {c.name for c in columns if isinstance(c.type, JSON)}
    names = ", ".join(f'"{c.name}"' for c in columns)
    raw = connection.connection.driver_connection
    with (
        raw.cursor() as cursor,
        cursor.copy(f"COPY {table.__tablename__} ({names}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row([Json(row[c.name]) if c.name in json else row[c.name] for c in columns])


def seed(url: str, count: int, *, realistic: bool = False) -> str:
    """Fill the database; returns an API token of the `bench` account."""
    database = open_database(url)
    rng = random.Random(42)
    prose = Prose(realistic, rng)
    began = time.perf_counter()
    with database.transaction() as session:
        actor = create_user(session, username="bench", password="bench password 1")
        token = create_token(session, actor=actor, name="bench")
    for first in range(0, count, BATCH):
        numbers = range(first, min(first + BATCH, count))
        children, incidents = _batch(numbers, rng, prose)
        with database.engine.begin() as connection:
            _insert(connection, IncidentRow, incidents)
            for table, name in (
                (TimelineEventRow, "events"),
                (ActionItemRow, "actions"),
                (ServiceRow, "services"),
                (TagRow, "tags"),
            ):
                _insert(connection, table, [row for c in children for row in c[name]])
            _insert(
                connection,
                IncidentMemberRow,
                [{"incident_id": n + 1, "user_id": actor.id} for n in numbers if n % 100 == 0],
            )
            reindex_incidents(connection, [n + 1 for n in numbers])
            refresh_insight_facts(connection, [n + 1 for n in numbers])
        print(
            f"\r{min(first + BATCH, count)}/{count} incidents "
            f"({time.perf_counter() - began:.0f} s)",
            end="",
            file=sys.stderr,
            flush=True,
        )
    if database.engine.dialect.name == "postgresql":
        with database.engine.begin() as connection:
            connection.exec_driver_sql("SELECT setval('incidents_id_seq', max(id)) FROM incidents")
            connection.exec_driver_sql("ANALYZE")
    with database.transaction() as session:  # the data reads back through the application
        sample = get_postmortem(session, key=incidents[-1]["key"])
        assert len(sample.postmortem.timeline) >= 45
    print(file=sys.stderr)
    database.dispose()
    return token


if __name__ == "__main__":
    print(seed(sys.argv[1], int(sys.argv[2]), realistic="--realistic" in sys.argv[3:]))
