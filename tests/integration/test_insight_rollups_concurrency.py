"""Writers in several threads (each its own connection and transaction) change incidents of
the same month, service and severity at once: the rollups' counts are added with upserts
in key order, so none is lost and no writer deadlocks; afterwards they equal a rebuild from
the facts, on both databases."""

from __future__ import annotations

import threading
from typing import Any

from hindsight.domain.editing import set_field
from hindsight.services.database import Database
from hindsight.services.incidents import create_postmortem, update_postmortem
from hindsight.storage.insight_facts import refresh_insight_facts
from tests.factories import T0, make_postmortem
from tests.integration.test_insight_facts import _facts

WRITERS, EACH = 3, 4


def test_concurrent_writers_lose_no_count(fresh_database: Database) -> None:
    barrier = threading.Barrier(WRITERS)
    errors: list[BaseException] = []

    def writer(number: int) -> None:
        try:
            barrier.wait()
            for n in range(EACH):
                key = f"2024-03-{n + 10}-writer-{number}"
                with fresh_database.transaction() as session:
                    create_postmortem(
                        session, postmortem=make_postmortem(key=key), author="tester", now=T0
                    )
                with fresh_database.transaction() as session:
                    update_postmortem(
                        session,
                        key=key,
                        change=lambda pm: set_field(pm, "severity", "SEV1"),
                        author="tester",
                    )
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    with fresh_database.reading() as session:
        stored = _facts(session)
    counted = {
        key[2]: n
        for key, (n, _) in stored["rollups"].items()
        if key[:2] == ("", False) and key[3:5] == ("incidents", "2024-03")
    }
    assert counted == {"SEV1": WRITERS * EACH, "*": WRITERS * EACH}
    with fresh_database.transaction() as session:
        refresh_insight_facts(session.connection(), None)
    with fresh_database.reading() as session:
        rebuilt: dict[str, Any] = _facts(session)
    assert rebuilt["rollups"] == stored["rollups"]
