"""Search at scale: seeded postmortems with real prose, timed in-process and under load.

For each database (SQLite file, PostgreSQL) and size: seed with bench/web/seed.py
(`realistic=True`: lines of the real reports in ../shared/data/postmortems), then
1. in-process: every query of QUERIES through services/search.search_postmortems (one page of
   20, facets, snippets) as an editor who is a member of 1 % of the restricted incidents,
   REPEATS times each, with the incident list's first page (list_postmortems) as the
   baseline (similar incidents have their own bench: bench/similar);
2. under load: `hindsight serve --workers 2` driven by wrk with 20 connections over the search
   page and the search API, with /healthz (the framework's ceiling) in the same run.
p50/p95/p99 in ms, and each p95 as a ratio of its baseline's. Usage:
    python bench/search/run.py [--sizes 10000,100000] [--databases sqlite,postgresql]
        [--duration 10] [--repeats 15] [--no-load] [--per-query] [--as-served]
        [--url DATABASE_URL --size N]
`--url` measures a database seeded before (by bench/web/seed.py --realistic, then migrated
to head) instead of seeding a new one; it is left as it was.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from types import ModuleType

from sqlalchemy import create_engine, text

from hindsight.domain.access import Actor
from hindsight.services.accounts import create_token, list_users
from hindsight.services.database import Database, open_database
from hindsight.services.incidents import list_postmortems
from hindsight.services.search import search_postmortems
from hindsight.web.app import freeze_start_up_objects

WEB = Path(__file__).resolve().parents[1] / "web"
QUERIES: list[tuple[str, dict[str, list[str]]]] = [
    ("database", {}),
    ("deploy", {}),
    ("certificate", {}),
    ("timeout", {}),
    ("rollback", {}),
    ("jupyterhub", {}),
    ("kubernetes upgrade", {}),
    ("memory leak", {}),
    ('"node pool"', {}),
    ('"slack channel"', {}),
    ("dns OR database", {}),
    ("ingress -nginx", {}),
    ("outage", {"severity": ["SEV1"]}),
    ("users", {"service": ["checkout"], "open_actions": ["yes"]}),
]


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


sys.path.insert(0, str(WEB))
seed_module = _load("bench_web_seed", WEB / "seed.py")
web_run = _load("bench_web_run", WEB / "run.py")


def _percentiles(values: list[float]) -> tuple[float, float, float]:
    ordered = sorted(values)

    def at(share: float) -> float:
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))]

    return statistics.median(ordered), at(0.95), at(0.99)


def _timed(database: Database, call: object, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        with database.reading() as session:
            began = time.perf_counter()
            call(session)  # type: ignore[operator]
            times.append((time.perf_counter() - began) * 1000)
    return times


def _bench_actor(database: Database) -> Actor:
    with database.reading() as session:
        return next(actor for actor, _ in list_users(session) if actor.username == "bench")


def in_process(
    database: Database, repeats: int
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Wall times (ms) of each operation, every query interleaved with the baseline, and
    each query's own."""
    actor = _bench_actor(database)
    times: dict[str, list[float]] = {"baseline: list page 1": [], "search": []}
    per_query: dict[str, list[float]] = {}
    for _round in range(repeats):
        times["baseline: list page 1"] += _timed(
            database, lambda s: list_postmortems(s, actor=actor, limit=50), 1
        )
        for query, filters in QUERIES:

            def run(session: object, q: str = query, f: dict[str, list[str]] = filters) -> None:
                search_postmortems(session, query=q, actor=actor, filters=f, limit=20)  # type: ignore[arg-type]

            took = _timed(database, run, 1)
            times["search"] += took
            per_query.setdefault(query, []).extend(took)
    slowest = max(per_query, key=lambda q: _percentiles(per_query[q])[1])
    times[f"search, slowest query ({slowest})"] = per_query[slowest]
    return times, per_query


def _totals(database: Database) -> str:
    actor = _bench_actor(database)
    with database.reading() as session:
        found = [
            f"{q}: {search_postmortems(session, query=q, actor=actor, filters=f).results.total:,}"
            for q, f in QUERIES[:4]
        ]
    return "; ".join(found)


def under_load(url: str, folder: Path, token: str, duration: int) -> dict[str, dict[str, str]]:
    port = web_run._port()
    env = {**os.environ, "HINDSIGHT_DATABASE_URL": url, "HINDSIGHT_DATA_DIR": str(folder)}
    server = subprocess.Popen(
        [sys.executable, "-m", "hindsight", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):  # a loaded machine can take a minute to start two workers
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        cookie = web_run._sign_in(base)

        def encoded(query: str, filters: dict[str, list[str]]) -> str:
            pairs = [("q", query)] + [(k, v) for k, vs in filters.items() for v in vs]
            return urllib.parse.urlencode(pairs)

        endpoints = {
            "baseline: /healthz": ["/healthz"],
            "search page": [f"/search?{encoded(q, f)}" for q, f in QUERIES],
            "search API": [f"/api/v1/search?{encoded(q, f)}" for q, f in QUERIES],
        }
        found = {}
        for name, paths in endpoints.items():
            auth = f"Bearer {token}" if "API" in name else ""
            result = web_run._wrk(base, paths, cookie if not auth else "", auth, duration)
            found[name] = dict(item.split("=") for item in result.split())
        return found
    finally:
        server.terminate()
        server.wait(timeout=30)


def _database(kind: str, size: int, folder: Path) -> str:
    """A new database of its own (bench/web's are named by size alone, and another run of
    bench/web would drop this one under our feet)."""
    if kind == "sqlite":
        return f"sqlite:///{folder / f'search-{size}.db'}"
    name = f"hindsight_bench_search_{size}_{os.getpid()}"
    admin = create_engine(web_run.PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return admin.url.set(database=name).render_as_string(hide_password=False)


def _drop(url: str) -> None:
    if not url.startswith("postgresql"):
        return
    admin = create_engine(web_run.PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        name = url.rsplit("/", 1)[1]
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def run(kind: str, size: int, args: argparse.Namespace, folder: Path) -> None:
    url = _database(kind, size, folder)
    try:
        _measure(kind, size, url, args, folder)
    finally:
        _drop(url)


def _reuse_token(url: str) -> str:
    database = open_database(url)
    try:
        with database.transaction() as session:
            return create_token(session, actor=_bench_actor(database), name="bench search")
    finally:
        database.dispose()


def _measure(
    kind: str, size: int, url: str, args: argparse.Namespace, folder: Path, *, reuse: bool = False
) -> None:
    began = time.perf_counter()
    token = _reuse_token(url) if reuse else seed_module.seed(url, size, realistic=True)
    seeded = time.perf_counter() - began
    database = open_database(url)
    try:
        if args.as_served:
            # As a server is by then: warm (one untimed round), its start-up objects frozen
            # out of the collector's full passes (web/app.freeze_start_up_objects).
            in_process(database, 1)
            freeze_start_up_objects()
        times, per_query = in_process(database, args.repeats)
        totals = _totals(database)
    finally:
        database.dispose()
    base_p95 = _percentiles(times["baseline: list page 1"])[1]
    for name, values in times.items():
        p50, p95, p99 = _percentiles(values)
        print(
            f"| {kind} | {size:,} | in-process | {name} | {p50:.1f} | {p95:.1f} | {p99:.1f} | "
            f"{p95 / base_p95:.2f} | |",
            flush=True,
        )
    if args.per_query:
        print("| Query | p50 ms | p95 ms | max ms |\n|---|---:|---:|---:|")
        for (query, filters), values in zip(QUERIES, per_query.values(), strict=True):
            p50, p95, _ = _percentiles(values)
            shown = query + "".join(f" {k}={'|'.join(v)}" for k, v in filters.items())
            print(f"| {shown} | {p50:.1f} | {p95:.1f} | {max(values):.1f} |", flush=True)
    if not args.no_load:
        load = under_load(url, folder, token, args.duration)
        healthz = float(load["baseline: /healthz"]["p95"])
        for name, values in load.items():
            print(
                f"| {kind} | {size:,} | 20 connections | {name} | {values['p50']} | "
                f"{values['p95']} | {values['p99']} | {float(values['p95']) / healthz:.2f} | "
                f"{values['rps']} req/s, {values['errors']} errors |",
                flush=True,
            )
    how = "reused a seeded database" if reuse else f"seeded {size:,} in {seeded:.0f} s"
    print(f"({how}; matches: {totals})", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--no-load", action="store_true")
    parser.add_argument(
        "--per-query", action="store_true", help="also each query's p50, p95 and slowest run"
    )
    parser.add_argument(
        "--as-served",
        action="store_true",
        help="time in-process after one untimed round and with start-up objects frozen, as "
        "`hindsight serve` runs (without: from cold, the collector visiting everything)",
    )
    parser.add_argument("--url", help="a database seeded before, measured as it is")
    parser.add_argument("--size", type=int, default=0, help="how many incidents --url holds")
    args = parser.parse_args(argv)
    print(
        f"# {dt.date.today()} · {platform.machine()}, {os.cpu_count()} cores · "
        f"Python {sys.version.split()[0]}"
    )
    print(
        "| Database | Incidents | How | Operation | p50 ms | p95 ms | p99 ms | p95 ÷ baseline | |"
    )
    print("|---|---:|---|---|---:|---:|---:|---:|---|", flush=True)
    with tempfile.TemporaryDirectory() as folder:
        if args.url:
            kind = "postgresql" if args.url.startswith("postgresql") else "sqlite"
            _measure(kind, args.size, args.url, args, Path(folder), reuse=True)
            return
        for size in (int(s) for s in args.sizes.split(",")):
            for kind in args.databases.split(","):
                run(kind, size, args, Path(folder))


if __name__ == "__main__":
    main()
