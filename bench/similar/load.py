"""Similar incidents under load: `hindsight serve --workers 2` on a database that
bench/similar/latency.py has prepared (seeded, profiled), driven by wrk with 20 connections
(bench/web/run.py's harness): the API's "Seen before" next to the API postmortem of the same
incidents, each endpoint for DURATION seconds after every path was asked once (which also
loads each worker's similarity index). Usage:
    .venv/bin/python bench/similar/load.py DATABASE_URL COUNT [DURATION]
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "web"))
from run import _port, _token_of_seeded, _warm, _wrk, dt_key


def main() -> None:
    url, size = sys.argv[1], int(sys.argv[2])
    duration = int(sys.argv[3]) if len(sys.argv) > 3 else 15
    token = _token_of_seeded(url)
    rng = random.Random(1)
    visible = [n for n in range(size // 2, size) if n % 50]  # restricted: members only
    keys = [f"{dt_key(n)}-incident-{n}" for n in rng.sample(visible, 100)]
    with tempfile.TemporaryDirectory() as folder:
        port = _port()
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
                "baseline: API postmortem": [f"/api/v1/incidents/{key}" for key in keys],
                "API similar": [f"/api/v1/incidents/{key}/similar" for key in keys],
            }
            began = time.perf_counter()
            _warm(base, endpoints["API similar"][:4], "", auth)  # both workers load the index
            print(f"first requests (index loads) took {time.perf_counter() - began:.0f} s")
            for name, paths in endpoints.items():
                _warm(base, paths, "", auth)
                result = _wrk(base, paths, "", auth, duration)
                print(f"| {size:,} | 20 connections | {name} | {result} |", flush=True)
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


if __name__ == "__main__":
    main()
