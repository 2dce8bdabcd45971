"""Archive import of 1,000 reports: the real reports in ../shared/data/postmortems (69 of
them, every layout) cycled under distinct names, imported in one run as `hindsight
import-archive` does (one transaction, a savepoint per report), on SQLite and PostgreSQL,
next to a baseline measured in the same run (json.dumps of the same postmortems):

    .venv/bin/python bench/archive/run.py [COUNT]

Target: 1,000 reports in under 30 s.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

from hindsight.analysis.archive import read_report
from hindsight.domain.codec import postmortem_to_dict
from hindsight.services.archive_import import import_archive
from hindsight.services.archive_sources import ReportInput
from hindsight.services.database import open_database

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data" / "postmortems"
LOCAL = ROOT / "tests" / "data" / "archive"
POSTGRES = os.environ.get(
    "HINDSIGHT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def reports(count: int) -> list[ReportInput]:
    folder = SHARED if SHARED.is_dir() else LOCAL
    real = sorted(p for p in folder.rglob("*.md") if "lists" not in p.parts)
    texts = [(p.parent.name, p.name, p.read_bytes()) for p in real]
    return [
        ReportInput(
            f"bench-{n // len(texts)}-{texts[n % len(texts)][0]}/{texts[n % len(texts)][1]}",
            texts[n % len(texts)][2],
        )
        for n in range(count)
    ]


def timed(fn: object) -> float:
    """Wall-clock seconds; the CPU seconds of this process go to CPU[-1] (on a shared, busy
    machine wall time includes waiting for a core, CPU time does not)."""
    start, cpu = time.perf_counter(), time.process_time()
    fn()  # type: ignore[operator]
    CPU.append(time.process_time() - cpu)
    return time.perf_counter() - start


CPU: list[float] = []


def import_into(url: str, inputs: list[ReportInput]) -> tuple[float, int]:
    database = open_database(url)
    outcomes: list[object] = []
    try:

        def run() -> None:
            with database.transaction() as session:
                outcomes.extend(
                    import_archive(session, inputs, author="bench", zone="Europe/London")
                )

        seconds = timed(run)
    finally:
        database.dispose()
    created = sum(1 for o in outcomes if getattr(o, "outcome", "") == "created")
    return seconds, created


def postgres_url() -> str | None:
    name = f"hindsight_bench_{uuid.uuid4().hex[:8]}"
    try:
        engine = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
    except Exception as error:
        print(f"PostgreSQL not reachable ({type(error).__name__}); SQLite only")
        return None
    return POSTGRES.rsplit("/", 1)[0] + f"/{name}"


def drop_postgres(url: str) -> None:
    engine = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}"'))
    engine.dispose()


def main(count: int = 1000) -> None:
    inputs = reports(count)
    parsed = [
        read_report(r.data or b"", r.name, zone="Europe/London").to_postmortem() for r in inputs
    ]
    baseline = timed(lambda: [json.dumps(postmortem_to_dict(p), default=str) for p in parsed])
    read_only = timed(
        lambda: [
            read_report(r.data or b"", r.name, zone="Europe/London").to_postmortem() for r in inputs
        ]
    )
    rows = [("baseline: json.dumps of the same postmortems", baseline, CPU[0], count)]
    rows.append(("read and map only (pure reader)", read_only, CPU[1], count))
    with tempfile.TemporaryDirectory() as folder:
        seconds, created = import_into(f"sqlite:///{Path(folder) / 'bench.db'}", inputs)
        rows.append(("import into SQLite", seconds, CPU[-1], created))
    url = postgres_url()
    if url:
        try:
            seconds, created = import_into(url, inputs)
            rows.append(
                ("import into PostgreSQL (server CPU not counted)", seconds, CPU[-1], created)
            )
        finally:
            drop_postgres(url)
    print(
        f"# {dt.date.today()} · {platform.machine()} · Python {platform.python_version()} · "
        f"{count} reports · command: `{' '.join(sys.argv)}`\n"
    )
    load = os.getloadavg()[0]
    print(f"load average at the end: {load:.1f} on {os.cpu_count()} cores\n")
    print("| what | wall s | CPU s | incidents | wall x baseline |\n|---|---:|---:|---:|---:|")
    for name, value, cpu, made in rows:
        print(f"| {name} | {value:.2f} | {cpu:.2f} | {made} | {value / baseline:.1f} |")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
