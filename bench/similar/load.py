"""Similar incidents under load: `hindsight serve --workers 2` on a database that
bench/similar/latency.py has prepared (seeded, profiled), driven by wrk with 20 connections
(bench/web/run.py's harness): the API's "Seen before" next to the API postmortem of the same
incidents and `/healthz` (the framework's ceiling), each endpoint for DURATION seconds after
every path was asked once (which also loads each worker's similarity index), each p95 also
as a ratio of `/healthz`'s. Usage:
    .venv/bin/python bench/similar/load.py DATABASE_URL COUNT [DURATION]
"""

from __future__ import annotations

import importlib.util
import os
import random
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from latency import readable_sample  # also puts bench/web on the path, for its seeder

from hindsight.services.database import open_database

# bench/web/run.py's harness, under another name than this folder's run.py.
_spec = importlib.util.spec_from_file_location("web_run", Path(__file__).parents[1] / "web/run.py")
assert _spec is not None and _spec.loader is not None
web = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(web)


def main() -> None:
    url, size = sys.argv[1], int(sys.argv[2])
    duration = int(sys.argv[3]) if len(sys.argv) > 3 else 15
    token = web._token_of_seeded(url)
    rng = random.Random(1)
    visible = [n for n in range(size // 2, size) if n % 50]  # restricted: members only
    candidates = [
        f"{web.dt_key(n)}-incident-{n}" for n in rng.sample(visible, min(200, len(visible)))
    ]
    database = open_database(url)
    keys = sorted(set(readable_sample(database, candidates, 100)))
    database.dispose()
    with tempfile.TemporaryDirectory() as folder:
        port = web._port()
        env = {**os.environ, "HINDSIGHT_DATABASE_URL": url, "HINDSIGHT_DATA_DIR": folder}
        server = subprocess.Popen(
            [sys.executable, "-m", "hindsight", "serve", "--port", str(port), "--workers", "2"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(600):
                try:
                    urllib.request.urlopen(f"{base}/healthz", timeout=1)
                    break
                except OSError:
                    time.sleep(0.2)
            auth = f"Bearer {token}"
            endpoints = {
                "baseline: /healthz": ["/healthz"],
                "baseline: API postmortem": [f"/api/v1/incidents/{key}" for key in keys],
                "API similar": [f"/api/v1/incidents/{key}/similar" for key in keys],
            }
            began = time.perf_counter()
            web._warm(base, endpoints["API similar"][:4], "", auth)  # both workers load the index
            print(f"first requests (index loads) took {time.perf_counter() - began:.0f} s")
            healthz = 0.0
            for name, paths in endpoints.items():
                web._warm(base, paths, "", auth)
                result = web._wrk(base, paths, "", auth, duration)
                p95 = float(dict(item.split("=") for item in result.split())["p95"])
                healthz = healthz or p95
                print(
                    f"| {size:,} | 20 connections | {name} | {result} | "
                    f"p95 ÷ /healthz {p95 / healthz:.2f} |",
                    flush=True,
                )
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


if __name__ == "__main__":
    main()
