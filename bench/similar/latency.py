"""Similar incidents at scale: p50/p95 of `find_similar` (what "Seen before" costs a page)
next to `get_postmortem` of the same incidents (what the page costs anyway), measured side by
side in one run on one database.

Incidents come from bench/web's seeder; each gets the similarity profile (words and vector) of
one of the real reports in ../shared/data/postmortems, picked at random, written in bulk (the
services would embed each one), and the search index is rebuilt over them. Usage:
    .venv/bin/python bench/similar/latency.py [DATABASE_URL] [COUNT] [QUERIES]
A DATABASE_URL that bench/web/seed.py seeded earlier (with COUNT incidents) is brought to the
current schema and given profiles instead of being seeded again; QUERIES 0 only prepares.
"""

from __future__ import annotations

import datetime as dt
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert, inspect, text

sys.path.insert(0, str(Path(__file__).parents[1] / "web"))
sys.path.insert(0, str(Path(__file__).parent))

from run import COLLECTIONS, DATA, read_report
from seed import seed

from hindsight.analysis.similarity import MAX_TERMS, tokenize
from hindsight.domain.codec import InvalidPostmortemError
from hindsight.services.database import Database, open_database
from hindsight.services.embeddings import WordLlamaEmbedder, encode_vector
from hindsight.services.incidents import get_postmortem
from hindsight.services.similar import find_similar
from hindsight.storage.db import upgrade_database
from hindsight.storage.models import IncidentProfileRow, IncidentRow

BATCH = 2000


def real_profiles(embedder: WordLlamaEmbedder) -> list[dict[str, object]]:
    """Terms and vector of every real report, to be shared out among the seeded incidents."""
    found = []
    for path in sorted(p for c in COLLECTIONS for p in (DATA / c).glob("2*.md")):
        title, body = read_report(path)
        text = f"{title}\n{title}\n{body}"
        found.append(
            {
                "terms": " ".join(tokenize(text)[:MAX_TERMS]),
                "vector": encode_vector(embedder.embed([text])[0]),
            }
        )
    return found


def add_profiles(url: str, count: int, embedder: WordLlamaEmbedder) -> None:
    database = open_database(url)
    pool = real_profiles(embedder)
    rng = random.Random(7)
    now = dt.datetime.now(dt.UTC)
    for first in range(1, count + 1, BATCH):
        rows = [
            {
                "incident_id": n,
                "categories": [],
                "model": embedder.name,
                "text_hash": "bench",
                "updated_at": now,
                **rng.choice(pool),
            }
            for n in range(first, min(first + BATCH, count + 1))
        ]
        with database.engine.begin() as connection:
            connection.execute(insert(IncidentProfileRow), rows)
    with database.engine.begin() as connection:  # when each incident happened: its first event
        connection.execute(
            text(
                "UPDATE incident_profiles SET happened_at = (SELECT min(e.at) FROM "
                "timeline_events e WHERE e.incident_id = incident_profiles.incident_id)"
            )
        )
    database.dispose()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]


def prepare(url: str, count: int) -> None:
    """Seed `count` incidents (an empty database), or bring a database seeded earlier with
    bench/web/seed.py to the current schema; then give every incident a real profile."""
    database = open_database(url)
    seeded = profiled = False
    if inspect(database.engine).has_table("incidents"):
        with database.reading() as session:
            seeded = session.query(IncidentRow.id).first() is not None
            profiled = session.query(IncidentProfileRow.incident_id).first() is not None
    database.dispose()
    began = time.perf_counter()
    if not seeded:
        seed(url, count)
    else:
        upgrade_database(open_database(url).engine)
    if not profiled:
        add_profiles(url, count, WordLlamaEmbedder())
    print(f"prepared {count} incidents in {time.perf_counter() - began:.0f} s", file=sys.stderr)


def readable_sample(database: Database, keys: list[str], count: int) -> list[str]:
    """`count` keys picked at random (with repeats) among those `get_postmortem` can read: the
    seeder's realistic mode gives a few incidents two action items with one id, which the
    domain refuses (a seeder bug, not a cost to measure)."""
    rng = random.Random(1)
    sample: list[str] = []
    with database.reading() as session:
        while len(sample) < count:
            key = rng.choice(keys)
            try:
                get_postmortem(session, key=key)
            except InvalidPostmortemError:
                continue
            sample.append(key)
    return sample


def main() -> None:
    url = sys.argv[1] if len(sys.argv) > 1 else ""
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 20_000
    queries = int(sys.argv[3]) if len(sys.argv) > 3 else 100
    with tempfile.TemporaryDirectory() as folder:
        url = url or f"sqlite:///{folder}/similar-bench.db"
        prepare(url, count)
        if not queries:  # prepare only (seeding takes no lock; the timed part does)
            return
        embedder = WordLlamaEmbedder()
        database = open_database(url)
        with database.reading() as session:
            keys = [k for (k,) in session.query(IncidentRow.key).order_by(IncidentRow.id)]
        sample = readable_sample(database, keys[len(keys) // 2 :], queries)
        with database.reading() as session:  # the first lookup of a process loads the index
            start = time.perf_counter()
            find_similar(session, key=keys[0], embedder=embedder)
            memory = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
            print(f"index loaded in {time.perf_counter() - start:.1f} s; max RSS {memory} MB")
        timings: dict[str, list[float]] = {"get_postmortem": [], "find_similar": []}
        for key in sample:  # interleaved, so both see the same machine load
            with database.reading() as session:
                start = time.perf_counter()
                get_postmortem(session, key=key)
                timings["get_postmortem"].append(time.perf_counter() - start)
            with database.reading() as session:
                start = time.perf_counter()
                find_similar(session, key=key, embedder=embedder)
                timings["find_similar"].append(time.perf_counter() - start)
        database.dispose()
    print(f"{database.engine.dialect.name}, {count} incidents, {queries} queries")
    for name, values in timings.items():
        print(
            f"{name:<15} p50 {statistics.median(values) * 1000:7.1f} ms   "
            f"p95 {percentile(values, 0.95) * 1000:7.1f} ms"
        )
    ratio = percentile(timings["find_similar"], 0.95) / percentile(timings["get_postmortem"], 0.95)
    print(f"find_similar / get_postmortem at p95: {ratio:.1f}x")


if __name__ == "__main__":
    main()
