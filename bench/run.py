"""Benchmarks for the postmortem record: the Markdown and JSON forms and storage.

Run with `make bench`. Each figure is compared with a baseline measured in the same run
(plain `json.dumps`/`json.loads` of the same data), because this machine is shared and noisy.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hindsight.domain.codec import postmortem_from_dict, postmortem_to_dict
from hindsight.domain.incidents import Postmortem
from hindsight.rendering.json_form import read_json, render_json
from hindsight.rendering.markdown import render_markdown
from hindsight.rendering.markdown_reader import read_markdown
from hindsight.services.database import open_database
from hindsight.services.incidents import create_postmortem, get_postmortem

EVENTS, ACTIONS, REPEATS = 2000, 100, 5


def big_postmortem() -> Postmortem:
    """A postmortem with 2,000 timeline events and 100 action items."""
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    timeline = [
        {
            "at": (start + dt.timedelta(seconds=37 * n)).isoformat(),
            "zone": "Europe/Berlin",
            "text": f"Event {n}: pod web-{n % 17} restarted | exit code {n % 3}",
            "kind": "log",
            "source": "logs",
            "actor": f"node-{n % 5}",
            "provenance": [{"origin": "app.log", "locator": f"L{n * 3}"}],
        }
        for n in range(EVENTS)
    ]
    actions = [
        {"title": f"Fix item {n}", "owner": "team", "due": "2024-02-01"} for n in range(ACTIONS)
    ]
    return postmortem_from_dict(
        {
            "key": "bench",
            "title": "Benchmark",
            "severity": "SEV2",
            "timeline": timeline,
            "action_items": actions,
        }
    )


def best_of(fn: Callable[[], Any]) -> float:
    """Median wall time of REPEATS runs, in milliseconds."""
    times = []
    for _ in range(REPEATS):
        began = time.perf_counter()
        fn()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


def main() -> None:
    postmortem = big_postmortem()
    data = postmortem_to_dict(postmortem)
    markdown, json_text = render_markdown(postmortem), render_json(postmortem)
    raw = json.dumps(data)
    rows = {
        "baseline: json.dumps of the plain data": best_of(lambda: json.dumps(data)),
        "baseline: json.loads of the plain data": best_of(lambda: json.loads(raw)),
        "render Markdown form": best_of(lambda: render_markdown(postmortem)),
        "read Markdown form (parse + validate)": best_of(lambda: read_markdown(markdown)),
        "render JSON form": best_of(lambda: render_json(postmortem)),
        "read JSON form (parse + validate)": best_of(lambda: read_json(json_text)),
    }
    with tempfile.TemporaryDirectory() as folder:
        database = open_database(f"sqlite:///{Path(folder) / 'bench.db'}")
        counter = iter(range(10**6))

        def store() -> None:
            copy = postmortem_from_dict({**data, "key": f"bench-{next(counter)}"})
            with database.transaction() as session:
                create_postmortem(session, postmortem=copy, author="bench")

        def load() -> None:
            with database.transaction() as session:
                get_postmortem(session, key="bench-0")

        rows["store in SQLite (one transaction)"] = best_of(store)
        rows["load from SQLite"] = best_of(load)
        database.dispose()
    base = rows["baseline: json.dumps of the plain data"]
    print(
        f"# {dt.date.today()} · {platform.processor() or platform.machine()} · "
        f"Python {sys.version.split()[0]} · {EVENTS} events, {ACTIONS} action items"
    )
    print("| Operation | Median ms | x json.dumps |")
    print("|---|---:|---:|")
    for name, value in rows.items():
        print(f"| {name} | {value:.1f} | {value / base:.1f} |")


def run_feature_benches() -> None:
    """The feature benchmarks that run with `make bench` (each prints its own table)."""
    import subprocess

    for script in ("archive/run.py", "language/run.py"):
        print(flush=True)
        subprocess.run([sys.executable, str(Path(__file__).parent / script)], check=True)


def search_quick() -> None:
    """bench/search at a size `make bench` can afford (in-process, SQLite); the full run with
    load and PostgreSQL is `python bench/search/run.py --sizes 20000` (docs/benchmarks.md)."""
    import importlib.util

    path = Path(__file__).parent / "search" / "run.py"
    spec = importlib.util.spec_from_file_location("bench_search_run", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(["--sizes", "2000", "--databases", "sqlite", "--no-load", "--repeats", "5"])


def candidates() -> None:
    """The root-cause ranking against its baseline (bench/candidates), when ../shared is here."""
    import runpy

    folder = Path(__file__).parent / "candidates" / "run.py"
    runner = runpy.run_path(str(folder))
    if runner["SHARED"].exists():
        print()
        runner["main"]()


def impact() -> None:
    """Impact windows against NAB's labels (bench/impact/run.py), printed after the table."""
    import runpy

    runpy.run_path(str(Path(__file__).parent / "impact" / "run.py"), run_name="__main__")


def run_insights() -> None:
    """bench/insights (the Action items page and the dashboard at scale): 10,000 incidents
    unless HINDSIGHT_BENCH_INSIGHTS_SIZES says otherwise ("100000", or "0" to skip)."""
    sizes = os.environ.get("HINDSIGHT_BENCH_INSIGHTS_SIZES", "10000")
    if sizes != "0":
        script = Path(__file__).parent / "insights" / "run.py"
        subprocess.run([sys.executable, str(script), "--sizes", sizes], check=True)


if __name__ == "__main__":
    main()
    run_feature_benches()
    search_quick()
    candidates()
    impact()
    run_insights()
