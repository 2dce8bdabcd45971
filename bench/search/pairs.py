"""Phrases decided by the pairs index against phrases checked by position, side by side in
one process on one PostgreSQL database (storage/search/pairs.py, migration 0025).

First the same results: every phrase query at offsets 0, 20 and 980, without a filter and
among SEV1 incidents, with the pairs and with `decide_phrases` leaving the query as it is
(the path before 0025): totals, hits, scores and facets must be equal. Then ROUNDS rounds of
each query both ways, alternating: p50 and best of each, and the ratio. Usage:
    .venv/bin/python bench/search/pairs.py POSTGRESQL_URL [ROUNDS]
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from hindsight.domain.search import SearchQuery, parse_query
from hindsight.services.database import Database, open_database
from hindsight.storage.search import pairs, results, search

QUERIES = [
    '"node pool"',
    '"slack channel"',
    '"config change"',
    '"root cause"',
    '"rollback of deploy"',
    '"on-call engineer"',
    'deploy "node pool"',
    '"disk full"',
]
Decide = Callable[[Any, SearchQuery], pairs.Decided]


def _unchanged(_session: Any, query: SearchQuery) -> pairs.Decided:
    return pairs.Decided(query)


def _run(database: Database, decide: Decide, query: str, offset: int, filters: Any) -> Any:
    results.decide_phrases = decide  # type: ignore[assignment]
    with database.reading() as session:
        found = search(
            session, parse_query(query), actor=None, limit=20, offset=offset, filters=filters
        )
    hits = [(hit.key, round(hit.score, 6)) for hit in found.hits]
    return found.total, found.total_is_lower_bound, hits, found.facets


def main() -> None:
    url = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    database = open_database(url)
    decided: Decide = pairs.decide_phrases
    same = compared = 0
    for query in QUERIES:
        for offset in (0, 20, 980):
            for filters in ({}, {"severity": ["SEV1"]}):
                new = _run(database, decided, query, offset, filters)
                old = _run(database, _unchanged, query, offset, filters)
                compared += 1
                same += new == old
                if new != old:
                    print(f"DIFFERENT: {query} offset {offset} {filters}")
    print(f"same results: {same} of {compared}")
    times: dict[tuple[str, str], list[float]] = {}
    for _ in range(rounds):
        for query in QUERIES:
            for name, decide in (("pairs", decided), ("positions", _unchanged)):
                began = time.perf_counter()
                _run(database, decide, query, 0, {})
                times.setdefault((name, query), []).append((time.perf_counter() - began) * 1000)
    print("| Query | positions p50 / best ms | pairs p50 / best ms | ratio |\n|---|---:|---:|---:|")
    for query in QUERIES:
        old, new = times[("positions", query)], times[("pairs", query)]
        ratio = statistics.median(new) / statistics.median(old)
        print(
            f"| {query} | {statistics.median(old):.1f} / {min(old):.1f} | "
            f"{statistics.median(new):.1f} / {min(new):.1f} | {ratio:.2f} |"
        )
    results.decide_phrases = decided  # type: ignore[assignment]
    database.dispose()


if __name__ == "__main__":
    main()
