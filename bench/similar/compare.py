"""Similar incidents, an earlier revision against this checkout, side by side in one run.

Two worker processes serve one database: one imports Hindsight from REV (its `src/`, taken
with `git archive` into a temporary folder), the other from this checkout. Steps:
1. each worker loads its similarity index (timed, one after the other; `--loads` times each,
   who goes first alternating);
2. the same CHECK incidents are asked of both with `find_similar(limit=15)`: the JSON of the
   answers (keys, scores, parts, whys, suggestion, links) must be identical;
3. QUERIES lookups (`find_similar`, limit 5, what "Seen before" asks) are timed in each
   worker, the two taking turns on each incident (who goes first alternates), so both see the
   same machine load; p50 and p95 of each, and their ratio.
Usage (timed: hold the bench lock; the incidents are those bench/similar/latency.py picks):
    .venv/bin/python bench/similar/compare.py DATABASE_URL [--old REV] [--new REV]
        [--queries 100] [--check 200] [--loads 1]
--old defaults to where HEAD left main, --new to this checkout's src/ as it is (a revision
there makes sure the code measured is the code committed). Wall time and the worker's CPU time
are both reported: on a shared machine the CPU time moves less with the load. Either revision
may migrate the database to its own head: run it on a copy.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def _worker(url: str) -> None:
    """Answer the driver's commands, one JSON line each: `load KEY` (forget the index, then a
    lookup), `top KEY`, `time KEY`."""
    import hindsight
    from hindsight.services.database import open_database
    from hindsight.services.embeddings import WordLlamaEmbedder
    from hindsight.services.similar import find_similar, similar_to_dict
    from hindsight.services.similar_index import clear_indexes

    database = open_database(url)
    embedder = WordLlamaEmbedder()
    print(json.dumps({"source": str(Path(hindsight.__file__).parents[1])}), flush=True)
    for line in sys.stdin:
        command, key = line.split()
        if command == "load":
            clear_indexes()
        with database.reading() as session:
            start, cpu = time.perf_counter(), time.process_time()
            found = find_similar(
                session, key=key, embedder=embedder, limit=15 if command == "top" else 5
            )
            seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        memory = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
        answer: dict[str, Any] = {"seconds": seconds, "cpu": cpu, "max_rss_mb": memory}
        if command == "top":
            answer["result"] = similar_to_dict(found)
        print(json.dumps(answer), flush=True)


class Worker:
    """One worker process and its pipes."""

    def __init__(self, name: str, src: Path, url: str) -> None:
        self.name = name
        env = {"PYTHONPATH": str(src), "PATH": "/usr/bin:/bin", "HOME": str(Path.home())}
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--worker", url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.source = self._read()["source"]

    def _read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            sys.exit(f"the {self.name} worker stopped")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def ask(self, command: str, key: str) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(f"{command} {key}\n")
        self.process.stdin.flush()
        return self._read()

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(timeout=60)


def _merge_base() -> str:
    """Where this branch left main: the revision it changes."""
    found = subprocess.run(
        ["git", "-C", str(ROOT), "merge-base", "HEAD", "main"],
        check=True,
        capture_output=True,
        text=True,
    )
    return found.stdout.strip()[:12]


def _source(rev: str, folder: Path) -> Path:
    """REV's src/ extracted into `folder`."""
    folder.mkdir()
    archive = folder / "src.tar"
    subprocess.run(["git", "-C", str(ROOT), "archive", "-o", str(archive), rev, "src"], check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(folder, filter="data")
    return folder / "src"


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]


def _sample(url: str, queries: int, check: int) -> tuple[str, list[str], list[str]]:
    """The first incident (for the index load), QUERIES readable incidents of the newer half
    (with repeats, as latency.py picks them) and CHECK distinct ones."""
    sys.path.insert(0, str(Path(__file__).parent))
    from latency import readable_sample

    from hindsight.services.database import open_database
    from hindsight.storage.models import IncidentRow

    database = open_database(url)
    with database.reading() as session:
        keys = [k for (k,) in session.query(IncidentRow.key).order_by(IncidentRow.id)]
    timed = readable_sample(database, keys[len(keys) // 2 :], queries)
    distinct = sorted(set(readable_sample(database, keys[len(keys) // 2 :], check * 2)))
    database.dispose()
    return keys[0], timed, random.Random(5).sample(distinct, min(check, len(distinct)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("url")
    parser.add_argument("--old", help="the revision to compare (default: where HEAD left main)")
    parser.add_argument("--new", help="a revision instead of this checkout's src/ as it is")
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--check", type=int, default=200)
    parser.add_argument("--loads", type=int, default=1, help="index loads timed per worker")
    args = parser.parse_args()
    url, old = args.url, args.old or _merge_base()
    first, timed, checked = _sample(url, args.queries, args.check)
    with tempfile.TemporaryDirectory() as folder:
        new_src = _source(args.new, Path(folder) / "new") if args.new else ROOT / "src"
        workers = [
            Worker(old, _source(old, Path(folder) / "old"), url),
            Worker(f"new ({args.new or 'checkout'})", new_src, url),
        ]
        for worker in workers:
            print(f"{worker.name}: Hindsight from {worker.source}")
        for turn in range(args.loads):  # old, new, new, old, …
            for worker in workers if turn % 2 == 0 else workers[::-1]:
                answer = worker.ask("load", first)
                print(
                    f"{worker.name}: a lookup that loads the index {answer['seconds']:.1f} s "
                    f"(CPU {answer['cpu']:.1f} s), max RSS {answer['max_rss_mb']} MB",
                    flush=True,
                )
        differ = 0
        for key in checked:
            old, new = (w.ask("top", key)["result"] for w in workers)
            if old != new:
                differ += 1
                print(f"  top 15 differ for {key}")
        print(
            f"top 15 (find_similar, limit 15): {len(checked) - differ} of {len(checked)} identical"
        )
        timings: dict[str, list[float]] = {w.name: [] for w in workers}
        cpu: dict[str, list[float]] = {w.name: [] for w in workers}
        for n, key in enumerate(timed):
            for worker in workers if n % 2 == 0 else workers[::-1]:
                answer = worker.ask("time", key)
                timings[worker.name].append(answer["seconds"])
                cpu[worker.name].append(answer["cpu"])
        for worker in workers:
            worker.close()
    print(f"{url.split(':')[0]}, {len(timed)} lookups each, interleaved")
    for name, values in timings.items():
        print(
            f"{name:<8} find_similar p50 {statistics.median(values) * 1000:7.1f} ms   "
            f"p95 {_percentile(values, 0.95) * 1000:7.1f} ms   max {max(values) * 1000:7.1f} ms   "
            f"CPU p50 {statistics.median(cpu[name]) * 1000:6.1f} ms   "
            f"p95 {_percentile(cpu[name], 0.95) * 1000:6.1f} ms"
        )
    (old_values, old_cpu), (new_values, new_cpu) = ((timings[w.name], cpu[w.name]) for w in workers)
    print(
        f"new / old: p50 {statistics.median(new_values) / statistics.median(old_values):.2f}x, "
        f"p95 {_percentile(new_values, 0.95) / _percentile(old_values, 0.95):.2f}x; CPU p50 "
        f"{statistics.median(new_cpu) / statistics.median(old_cpu):.2f}x, "
        f"p95 {_percentile(new_cpu, 0.95) / _percentile(old_cpu, 0.95):.2f}x"
    )


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--worker":
        _worker(sys.argv[2])
    else:
        main()
