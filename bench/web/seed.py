"""Seed a database with N incidents (~50 timeline events, ~5 action items each), fast.

Rows are inserted in bulk through the storage tables (not the services, which validate and
record history one postmortem at a time); a sample is read back through the services to be
sure the data is what the application expects. Usage:
    python bench/web/seed.py DATABASE_URL COUNT
"""

from __future__ import annotations

import datetime as dt
import random
import sys
import time
from typing import Any

from sqlalchemy import insert

from hindsight.domain.identity import basis_text, derive_item_id
from hindsight.services.accounts import create_token, create_user
from hindsight.services.database import open_database
from hindsight.services.incidents import get_postmortem
from hindsight.storage.models import (
    ActionItemRow,
    IncidentMemberRow,
    IncidentRow,
    ServiceRow,
    TagRow,
    TimelineEventRow,
)

SERVICES = ["checkout", "payments", "search", "auth", "api", "web", "db", "queue", "cdn", "dns"]
SEVERITIES = ["SEV1", "SEV2", "SEV3", "SEV4", "SEV5"]
STATUSES = ["investigating", "identified", "monitoring", "resolved"]
REVIEWS = ["draft", "in_review", "approved", "published"]
KINDS = ["note", "observation", "alert", "action", "deploy", "communication", "log"]
MOMENTS = ["impact_started", "detected", "acknowledged", "mitigated", "resolved"]
BATCH = 1000


def _incident(number: int, rng: random.Random) -> dict[str, Any]:
    created = dt.datetime(2020, 1, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=37 * number)
    return {
        "id": number + 1,
        "key": f"{created:%Y-%m-%d}-incident-{number}",
        "title": f"Incident {number}: {rng.choice(SERVICES)} degraded",
        "summary": "Seeded.",
        "severity": rng.choice(SEVERITIES),
        "status": rng.choice(STATUSES),
        "review_status": rng.choice(REVIEWS),
        "visibility": "restricted" if number % 50 == 0 else "internal",
        "analysis": {
            "trigger": "",
            "root_causes": ["Seeded cause"],
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
            "narrative": "",
        },
        "response": {
            "detection_method": None,
            "detection_notes": "",
            "went_well": [],
            "went_wrong": [],
            "got_lucky": [],
            "communications": "",
            "teams": [],
        },
        "lessons": [{"text": "Seeded lesson", "id": derive_item_id("ls", "Seeded lesson")}],
        "created_at": created,
        "updated_at": created,
        "version": 1,
    }


def _children(number: int, rng: random.Random) -> dict[str, list[dict[str, Any]]]:
    incident_id = number + 1
    start = dt.datetime(2020, 1, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=37 * number)
    events = []
    count = rng.randint(45, 55)
    marked = dict(zip((0, 5, 8, 20, count - 1), MOMENTS, strict=True))
    for position in range(count):
        at = start + dt.timedelta(minutes=2 * position)
        text = f"Event {position} of incident {number}"
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
    actions = [
        {
            "incident_id": incident_id,
            "position": p,
            "item_id": derive_item_id("ai", f"Fix thing {p}"),
            "title": f"Fix thing {p}",
            "kind": "prevent",
            "owner": f"team{p}",
            "priority": "P3",
            "due": None,
            "status": "open",
            "reason": "",
            "tracker_url": "",
        }
        for p in range(rng.randint(4, 6))
    ]
    services = [{"incident_id": incident_id, "position": 0, "name": rng.choice(SERVICES)}]
    tags = [{"incident_id": incident_id, "position": 0, "name": f"tag{number % 20}"}]
    return {"events": events, "actions": actions, "services": services, "tags": tags}


def seed(url: str, count: int) -> str:
    """Fill the database; returns an API token of the `bench` account."""
    database = open_database(url)
    rng = random.Random(42)
    began = time.perf_counter()
    with database.transaction() as session:
        actor = create_user(session, username="bench", password="bench password 1")
        token = create_token(session, actor=actor, name="bench")
    for first in range(0, count, BATCH):
        numbers = range(first, min(first + BATCH, count))
        children = [_children(n, rng) for n in numbers]
        with database.engine.begin() as connection:
            connection.execute(insert(IncidentRow), [_incident(n, rng) for n in numbers])
            for table, name in (
                (TimelineEventRow, "events"),
                (ActionItemRow, "actions"),
                (ServiceRow, "services"),
                (TagRow, "tags"),
            ):
                connection.execute(insert(table), [row for c in children for row in c[name]])
            connection.execute(
                insert(IncidentMemberRow),
                [{"incident_id": n + 1, "user_id": actor.id} for n in numbers if n % 100 == 0],
            )
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
        sample = get_postmortem(session, key=_incident(count - 1, random.Random(0))["key"])
        assert len(sample.postmortem.timeline) >= 45
    print(file=sys.stderr)
    database.dispose()
    return token


if __name__ == "__main__":
    print(seed(sys.argv[1], int(sys.argv[2])))
