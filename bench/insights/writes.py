"""What keeping the insights' rollups costs a save, on a prepared database (bench/insights).

Times `update_postmortem` changing one action item's status (open <-> done: the incident's
facts and rollup counts change), REPEATS times on incidents picked at random, alternately
with the rollups kept (as the application does) and with them switched off (the facts alone,
as before migration 0023), in one run on the same database: p50/p95 ms of each and the
ratio. Each save is rolled back, so the database is left as it was. Usage:
    python bench/insights/writes.py DATABASE_URL [--repeats 100]
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hindsight.domain.editing import set_fields
from hindsight.services.database import open_database
from hindsight.services.incidents import update_postmortem
from hindsight.storage import insight_facts
from hindsight.storage.models import IncidentRow


def _save(database: Any, key: str, rollups: bool) -> float:
    original = insight_facts._refresh

    def refresh(connection: Any, ids: Any, keep: bool) -> None:
        original(connection, ids, keep and rollups)

    insight_facts._refresh = refresh  # type: ignore[assignment]
    try:
        with database.engine.connect() as connection:
            outer = connection.begin()
            session = Session(bind=connection, join_transaction_mode="create_savepoint")
            began = time.perf_counter()

            def flip(postmortem: Any) -> Any:
                item = postmortem.action_items[0]
                status = "open" if item.status.value in ("done", "wont_do") else "done"
                return set_fields(postmortem, {f"action_items.{item.id}.status": status})

            update_postmortem(session, key=key, change=flip, author="bench")
            session.flush()
            elapsed = (time.perf_counter() - began) * 1000
            session.close()
            outer.rollback()
        return elapsed
    finally:
        insight_facts._refresh = original  # type: ignore[assignment]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--repeats", type=int, default=100)
    args = parser.parse_args()
    database = open_database(args.url)
    with database.reading() as session:
        keys = list(session.scalars(select(IncidentRow.key).order_by(IncidentRow.id)))
    rng = random.Random(5)
    times: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(args.repeats):
        key = rng.choice(keys)
        for rollups in (True, False) if rng.random() < 0.5 else (False, True):
            times[rollups].append(_save(database, key, rollups))
    print("| Save (one item's status) | saves | p50 ms | p95 ms |")
    print("|---|---:|---:|---:|")
    for rollups, label in ((False, "facts only"), (True, "facts and rollups")):
        found = sorted(times[rollups])
        p95 = found[max(0, math.ceil(0.95 * len(found)) - 1)]
        print(f"| {label} | {len(found)} | {statistics.median(found):.1f} | {p95:.1f} |")
    ratio = statistics.median(times[True]) / statistics.median(times[False])
    print(f"(p50 with rollups / without: {ratio:.2f})")
    database.dispose()


if __name__ == "__main__":
    main()
