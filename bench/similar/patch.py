"""Keeping a large similarity index current: a patch with one changed incident against a full
load, on a database bench/similar/latency.py has prepared, and the two indexes compared.

Steps: load the index (timed); change one incident (`update_postmortem`, a new title, committed:
this writes to DATABASE_URL, so use a copy); patch the loaded index with what changed since it
was loaded (timed, as the background thread of services/similar_index.py does); load the whole
index again (timed); rank CHECK incidents on both (top 15, with why) and compare. Usage:
    .venv/bin/python bench/similar/patch.py DATABASE_URL [CHECK]
The seeded profiles are all stored at one instant: a patch looks for changes stored up to
PATCH_MARGIN before the newest one the index saw, so it falls back to a full load until the
newest stored profile is more than that past the seeding (the first run's change is).
"""

from __future__ import annotations

import dataclasses
import random
import resource
import sys
import time
from pathlib import Path

from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).parent))
from latency import readable_sample

from hindsight.analysis.similarity import rank
from hindsight.services.database import open_database
from hindsight.services.embeddings import WordLlamaEmbedder
from hindsight.services.incidents import update_postmortem
from hindsight.services.similar import _query_profile
from hindsight.services.similar_index import _load, _patched, _version
from hindsight.storage.models import IncidentRow


def main() -> None:
    url = sys.argv[1]
    check = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    database = open_database(url)
    model = WordLlamaEmbedder()
    with database.reading() as session:
        keys = [k for (k,) in session.query(IncidentRow.key).order_by(IncidentRow.id)]
    sample = sorted(set(readable_sample(database, keys[len(keys) // 2 :], check * 2)))
    changed, *queries = random.Random(3).sample(sample, min(check + 1, len(sample)))
    with database.reading() as session:
        start = time.perf_counter()
        loaded = _load(session, model, _version(session))
        print(f"full load: {time.perf_counter() - start:.1f} s, {len(loaded.index):,} incidents")
    with database.transaction() as session:
        update_postmortem(
            session,
            key=changed,
            change=lambda pm: dataclasses.replace(pm, title=f"{pm.title} (again, bench)"),
            author="bench",
        )
    with database.reading() as session:
        version = _version(session)
        start = time.perf_counter()
        patched = _patched(session, loaded, model, version)
        print(f"patch with the changed incident {changed}: {time.perf_counter() - start:.2f} s")
        start = time.perf_counter()
        full = _load(session, model, version)
        print(f"full load after the change: {time.perf_counter() - start:.1f} s")
        if patched is None:
            sys.exit("the patch fell back to a full load (see the docstring); run again")
        same = 0
        for key in queries:
            row_id = session.scalar(select(IncidentRow.id).where(IncidentRow.key == key))
            assert row_id is not None
            query = _query_profile(session, row_id, key, model)
            answers = [
                rank(
                    index.index,
                    query,
                    index.index.earlier_than(query) & ~index.archived,
                    limit=15,
                )
                for index in (patched, full)
            ]
            same += answers[0] == answers[1]
        masks = [
            (i.restricted.tolist(), i.archived.tolist(), i.index.ids_list) for i in (patched, full)
        ]
    print(
        f"top 15 with why, patched against full load: {same} of {len(queries)} identical; "
        f"ids and visibility {'identical' if masks[0] == masks[1] else 'DIFFER'}"
    )
    memory = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(f"max RSS {memory} MB (three indexes)")
    database.dispose()


if __name__ == "__main__":
    main()
