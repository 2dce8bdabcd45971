"""What a save costs with the search index as it is (storage/search_index.py: the vectors,
their GIN indexes, the pairs'): `update_postmortem` flipping one action item's status on
incidents of the newer half picked at random, each save rolled back so the database is left as
it was. p50/p95 ms. Run it with two revisions (a worktree with PYTHONPATH=<worktree>/src) on
twin databases, alternating, to compare. Usage:
    .venv/bin/python bench/search/saves.py DATABASE_URL [SAVES]
"""

from __future__ import annotations

import math
import random
import statistics
import sys
import time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hindsight.domain.editing import set_fields
from hindsight.services.database import open_database
from hindsight.services.incidents import update_postmortem
from hindsight.storage.models import IncidentRow

WARM = 5


def _flip(postmortem: Any) -> Any:
    item = postmortem.action_items[0]
    status = "open" if item.status.value in ("done", "wont_do") else "done"
    return set_fields(postmortem, {f"action_items.{item.id}.status": status})


def main() -> None:
    url = sys.argv[1]
    saves = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    database = open_database(url)
    with database.reading() as session:
        newest = session.scalar(select(IncidentRow.id).order_by(IncidentRow.id.desc()))
        keys = list(
            session.scalars(
                select(IncidentRow.key).where(
                    IncidentRow.id > (newest or 0) // 2, IncidentRow.id % 50 != 0
                )
            )
        )
    rng = random.Random(7)
    times: list[float] = []
    while len(times) < saves + WARM:
        key = rng.choice(keys)
        with database.engine.connect() as connection:
            outer = connection.begin()
            session = Session(bind=connection, join_transaction_mode="create_savepoint")
            began = time.perf_counter()
            update_postmortem(session, key=key, change=_flip, author="bench")
            session.flush()
            times.append((time.perf_counter() - began) * 1000)
            session.close()
            outer.rollback()
    measured = sorted(times[WARM:])
    p95 = measured[math.ceil(0.95 * len(measured)) - 1]
    print(f"saves {len(measured)}: p50 {statistics.median(measured):.1f} ms, p95 {p95:.1f} ms")
    database.dispose()


if __name__ == "__main__":
    main()
