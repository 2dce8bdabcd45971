"""The Action items page and the Insights dashboard at scale, on SQLite and PostgreSQL.

For each database and size: seed with bench/web/seed.py (incidents, timelines with key
moments, services), vary the key moments' times (the seeder's response times are a few fixed
values; real ones spread over hours, which is what the dashboard's histograms hold), replace
its action items with a varied set (owners of 40 people in 8
teams as participants, every status, due dates past and future, opened and closed times) and
give some incidents contributing factors; start `hindsight serve`, sign in as `bench`, then
request each page REQUESTS times one after another, or for BUDGET seconds when it is slow
(one user, no concurrency: the latency a person sees). Reports p50 and p95 in ms, with
`/healthz` measured the same way in the same run as the baseline. Usage:
    python bench/insights/run.py [--sizes 100000] [--databases sqlite,postgresql]
        [--sqlite-from FILE]   # a SQLite file bench/web/seed.py filled, copied, not re-seeded
        [--postgresql-from DB] # a PostgreSQL database it filled, copied as a template
        [--compare-src DIR]    # also measure the insights with the code in DIR (old vs new)
        [--prepared URL]       # time a database an earlier run (or `enrich`) prepared
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, create_engine, delete, insert, select, text

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent / "web"))
from run import PG_ADMIN, _port, _sign_in  # type: ignore[import-not-found]  # noqa: E402
from seed import BATCH, seed  # type: ignore[import-not-found]  # noqa: E402

from hindsight.domain.identity import derive_item_id  # noqa: E402
from hindsight.services.accounts import create_token, list_users  # noqa: E402
from hindsight.services.database import open_database  # noqa: E402
from hindsight.storage.insight_facts import refresh_insight_facts  # noqa: E402
from hindsight.storage.models import (  # noqa: E402
    ActionItemRow,
    IncidentRow,
    ParticipantRow,
    TimelineEventRow,
)
from hindsight.storage.repository import refresh_item_facts  # noqa: E402

REQUESTS = 60
MINIMUM, BUDGET = 5, 30.0
PEOPLE = ["bench"] + [f"user{n}" for n in range(1, 40)]
TEAMS = [f"team-{n}" for n in range(8)]
STATUSES = ["open", "in_progress", "done", "wont_do"]
KINDS = ["prevent", "detect", "mitigate", "process"]
FACTORS = ["change", "capacity", "dependency", "monitoring", "process"]


def _items(incident_id: int, created: dt.datetime, rng: random.Random) -> list[dict[str, Any]]:
    rows = []
    for position in range(rng.randint(4, 6)):
        status = rng.choice(STATUSES)
        closed = created + dt.timedelta(days=rng.randint(1, 90)) if status in STATUSES[2:] else None
        title = f"Fix thing {position}"
        rows.append(
            {
                "incident_id": incident_id,
                "position": position,
                "item_id": derive_item_id("ai", title),
                "title": title,
                "kind": rng.choice(KINDS),
                "owner": rng.choice(PEOPLE),
                "priority": rng.choice(["P1", "P2", "P3", "P4"]),
                "due": (created + dt.timedelta(days=rng.randint(-5, 120))).date()
                if rng.random() < 0.8
                else None,
                "status": status,
                "reason": "superseded" if status == "wont_do" else "",
                "tracker_url": "",
                "opened_at": created,
                "closed_at": closed,
            }
        )
    return rows


def vary_moments(url: str) -> None:
    """Response times as varied as real ones (the seeder's are a few fixed values): each
    incident's detected, acknowledged, mitigated and resolved moments moved to log-normal
    delays after its impact started (medians 8 min, then 3 min, 30 min, 90 min), in order,
    drawn from a generator seeded by the incident's id, so running it twice changes nothing."""
    database = open_database(url)
    events = TimelineEventRow.__table__  # type: ignore[attr-defined]
    with database.engine.begin() as connection:
        rows = connection.execute(
            select(events.c.id, events.c.incident_id, events.c.key_moment, events.c.at).where(
                events.c.key_moment.is_not(None)
            )
        ).all()
    moments: dict[int, dict[str, tuple[int, dt.datetime]]] = {}
    for event_id, incident_id, moment, at in rows:
        moments.setdefault(incident_id, {})[moment] = (event_id, at)
    changes = []
    for incident_id, found in moments.items():
        if "impact_started" not in found:
            continue
        rng = random.Random(incident_id)
        at = found["impact_started"][1]
        for moment, median in (
            ("detected", 8),
            ("acknowledged", 3),
            ("mitigated", 30),
            ("resolved", 90),
        ):
            at += dt.timedelta(minutes=rng.lognormvariate(math.log(median), 1.0))
            if moment in found:
                changes.append({"event": found[moment][0], "when": at})
    statement = (
        events.update().where(events.c.id == bindparam("event")).values(at=bindparam("when"))
    )
    for first in range(0, len(changes), 5000):
        with database.engine.begin() as connection:
            connection.execute(statement, changes[first : first + 5000])
    database.dispose()


def enrich(url: str) -> None:
    """Varied response times, action items, participants with teams, and contributing
    factors."""
    vary_moments(url)
    database = open_database(url)
    rng = random.Random(7)
    with database.engine.begin() as connection:
        connection.execute(delete(ActionItemRow))
        incidents = connection.execute(text("SELECT id, created_at FROM incidents")).all()
    for first in range(0, len(incidents), BATCH):
        chunk = incidents[first : first + BATCH]
        items: list[dict[str, Any]] = []
        people: list[dict[str, Any]] = []
        for incident_id, created in chunk:
            if isinstance(created, str):
                created = dt.datetime.fromisoformat(created)
            created = created.replace(tzinfo=dt.UTC) if created.tzinfo is None else created
            items += _items(incident_id, created, rng)
            for position, name in enumerate(sorted({i["owner"] for i in items[-6:]})):
                people.append(
                    {
                        "incident_id": incident_id,
                        "position": position,
                        "item_id": derive_item_id("pa", name),
                        "name": name,
                        "role": "responder",
                        "team": TEAMS[PEOPLE.index(name) % len(TEAMS)],
                    }
                )
        with database.engine.begin() as connection:
            connection.execute(insert(ActionItemRow), items)
            connection.execute(insert(ParticipantRow), people)
    with database.engine.begin() as connection:
        # The rows were written around storage/repository.py: give them its copies of their
        # incident's facts and their owner's team, as migration 0019 does.
        refresh_item_facts(connection)
        for index, category in enumerate(FACTORS):
            analysis = {
                "trigger": "",
                "root_causes": ["Seeded cause"],
                "contributing_factors": [
                    {"category": category, "description": category, "id": f"cf-00000{index}"}
                ],
                "five_whys": [],
            }
            connection.execute(
                IncidentRow.__table__.update()  # type: ignore[attr-defined]
                .where(text(f"id % {len(FACTORS) + 2} = {index}"))
                .values(analysis=analysis)
            )
        # The same for the insights' facts (factor categories changed above).
        refresh_insight_facts(connection, None)
    if database.engine.dialect.name == "postgresql":
        # What autovacuum would soon do after rewriting every item: without it the rewritten
        # rows' pages are not all-visible and index-only scans read the table.
        with database.engine.connect().execution_options(
            isolation_level="AUTOCOMMIT"
        ) as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
    database.dispose()


def _database(kind: str, size: int, folder: Path, template: str | None = None) -> str:
    """A fresh database of this bench's own (bench/web's have other names), or a copy of
    `template` (PostgreSQL)."""
    if kind == "sqlite":
        return f"sqlite:///{folder / f'insights-{size}.db'}"
    name = f"hindsight_bench_insights_{size}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        copy = f' TEMPLATE "{template}"' if template else ""
        connection.execute(text(f'CREATE DATABASE "{name}"{copy}'))
    admin.dispose()
    return admin.url.set(database=name).render_as_string(hide_password=False)


def _timed(opener: Any, url: str, headers: dict[str, str]) -> float:
    request = urllib.request.Request(url, headers=headers)
    began = time.perf_counter()
    with opener.open(request) as response:
        response.read()
        assert response.status == 200, (url, response.status)
    return (time.perf_counter() - began) * 1000


def _from_copy(source: Path | None, url: str) -> str:
    """A copy of a database bench/web/seed.py filled (same seed, same rows; SQLite: copied
    from `source` here, PostgreSQL: made from its template), brought to the current schema,
    and a new API token of its `bench` account."""
    if source is not None:
        target = Path(url.removeprefix("sqlite:///"))
        subprocess.run(["cp", "--reflink=auto", str(source), str(target)], check=True)
    database = open_database(url)
    with database.transaction() as session:
        actor = next(a for a, _ in list_users(session) if a.username == "bench")
        token = create_token(session, actor=actor, name="bench insights")
    database.dispose()
    return token


def measure(
    kind: str,
    size: int,
    folder: Path,
    sqlite_from: Path | None = None,
    postgresql_from: str | None = None,
    compare_src: Path | None = None,
    prepared: str | None = None,
) -> list[str]:
    began = time.perf_counter()
    if prepared:
        # Seeded, migrated and enriched beforehand (outside the benchmark lock).
        url, token = prepared, _from_copy(None, prepared)
    else:
        template = postgresql_from if kind == "postgresql" else None
        url = _database(kind, size, folder, template)
        source = sqlite_from if kind == "sqlite" else None
        copied = source is not None or template is not None
        token = _from_copy(source, url) if copied else seed(url, size)
        enrich(url)
    seeded = time.perf_counter() - began
    rows = _serve_and_time(kind, size, folder, url, token, seeded, None)
    if compare_src is not None:
        rows += _serve_and_time(kind, size, folder, url, token, seeded, compare_src)
    return rows


def _serve_and_time(
    kind: str,
    size: int,
    folder: Path,
    url: str,
    token: str,
    seeded: float,
    src: Path | None,
) -> list[str]:
    """Start `hindsight serve` (the code in `src` if given: only the insights pages, marked
    "old code") and time each page."""
    port = _port()
    env = {**os.environ, "HINDSIGHT_DATABASE_URL": url, "HINDSIGHT_DATA_DIR": str(folder)}
    if src is not None:
        env["PYTHONPATH"] = str(src)
    server = subprocess.Popen(
        [sys.executable, "-m", "hindsight", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        cookie = _sign_in(base)
        opener = urllib.request.build_opener()
        rng = random.Random(3)
        pages = max(1, size * 5 // 50)
        # The seeded incidents are 37 minutes apart from 2020-01-01: the last year of them.
        last = dt.date(2020, 1, 1) + dt.timedelta(minutes=37 * (size - 1))
        window = f"from={last - dt.timedelta(days=365)}&to={last}"
        endpoints = {
            "baseline: /healthz": ["/healthz"],
            "action items: mine (default)": ["/actions"],
            "action items: everyone's, deep pages": [
                f"/actions?who=all&page={rng.randint(1, min(pages, 2000))}" for _ in range(20)
            ],
            "action items: overdue P1 of a team": [
                f"/actions?who=all&due=overdue&priority=P1&team={t}" for t in TEAMS
            ],
            "insights: default (last 12 months)": ["/insights"],
            f"insights: 12 months of data ({window})": [f"/insights?{window}"],
            "insights: one service, 12 months of data": [f"/insights?{window}&service=checkout"],
            "insights: every incident": ["/insights?from=2000-01-01"],
            "API action items": [
                f"/api/v1/action-items?offset={rng.randint(0, 5000)}" for _ in range(20)
            ],
            "API insights (12 months of data)": [f"/api/v1/insights?{window}"],
        }
        if src is not None:
            endpoints = {n: p for n, p in endpoints.items() if "insights" in n or "healthz" in n}
        rows = []
        baseline = 0.0
        for name, paths in endpoints.items():
            headers = {"Authorization": f"Bearer {token}"} if "API" in name else {"Cookie": cookie}
            _timed(opener, base + paths[0], headers)  # warm up
            times: list[float] = []
            started = time.perf_counter()
            # REQUESTS of each, or as many as BUDGET seconds allow (at least MINIMUM).
            while len(times) < REQUESTS and (
                len(times) < MINIMUM or time.perf_counter() - started < BUDGET
            ):
                times.append(_timed(opener, base + paths[len(times) % len(paths)], headers))
            times.sort()
            p50 = statistics.median(times)
            p95 = times[max(0, math.ceil(0.95 * len(times)) - 1)]
            baseline = baseline or p95
            label = f"{name} (old code)" if src is not None else name
            rows.append(
                f"| {kind} | {size:,} | {label} | {len(times)} | {p50:.1f} | {p95:.1f} | "
                f"{p95 / baseline:.1f} |"
            )
            print(rows[-1], flush=True)
        counts = json.loads(
            opener.open(
                urllib.request.Request(
                    f"{base}/api/v1/insights?{window}",
                    headers={"Authorization": f"Bearer {token}"},
                )
            ).read()
        )
        print(
            f"(seeded {size:,} incidents in {seeded:.0f} s; 12 months of data are "
            f"{counts['incident_count']:,} incidents and {counts['item_count']:,} items)",
            flush=True,
        )
        return rows
    finally:
        server.terminate()
        server.wait(timeout=20)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100000")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument(
        "--postgresql-from",
        help="a PostgreSQL database bench/web/seed.py filled with --sizes incidents, copied "
        "as a template instead of seeding again (nobody may be connected to it)",
    )
    parser.add_argument(
        "--compare-src",
        type=Path,
        help="a source folder (another checkout's src/) whose server is measured too, on the "
        "same database, for the insights pages: old code against new in one run",
    )
    parser.add_argument(
        "--prepared",
        help="the URL of a database of --databases' one kind already seeded with --sizes "
        "incidents, migrated and enriched (this module's `enrich`): timed as it is",
    )
    parser.add_argument(
        "--sqlite-from",
        type=Path,
        help="a SQLite file bench/web/seed.py filled with --sizes incidents, copied instead of "
        "seeding again",
    )
    args = parser.parse_args()
    print("| Database | Incidents | Page | requests | p50 ms | p95 ms | p95 x /healthz |")
    print("|---|---:|---|---:|---:|---:|---:|", flush=True)
    with tempfile.TemporaryDirectory() as folder:
        for size in (int(s) for s in args.sizes.split(",")):
            for kind in args.databases.split(","):
                measure(
                    kind,
                    size,
                    Path(folder),
                    args.sqlite_from,
                    args.postgresql_from,
                    args.compare_src,
                    args.prepared,
                )


if __name__ == "__main__":
    main()
