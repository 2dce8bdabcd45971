"""Load test of the web UI and API: `hindsight serve --workers 2` driven by wrk.

For each database (SQLite file, PostgreSQL) and size (10,000 and, with --large, 100,000
incidents), seed, start the server, sign in, then drive each endpoint for DURATION seconds
with 20 connections and report p50/p95/p99 latency (ms), requests per second and errors.
Usage: python bench/web/run.py [--large] [--duration 15] [--sizes 10000,100000]
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).parent))
from seed import seed

from hindsight.services.accounts import create_token, list_users
from hindsight.services.database import open_database

HERE = Path(__file__).parent
PG_ADMIN = os.environ.get(
    "HINDSIGHT_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1/test"
)
CONNECTIONS = 20


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _database(kind: str, size: int, folder: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{folder / f'bench-{size}.db'}"
    name = f"hindsight_bench_{size}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return admin.url.set(database=name).render_as_string(hide_password=False)


def _sign_in(base: str) -> str:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/login").read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    body = urllib.parse.urlencode(
        {
            "username": "bench",
            "password": "bench password 1",
            "csrf_token": token.group(1),
            "next": "/",
        }
    ).encode()
    opener.open(f"{base}/login", data=body).read()
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def _warm(base: str, paths: list[str], cookie: str, auth: str) -> None:
    """Ask for each distinct path once, so the run measures a warm server and page cache
    (a database read cold from disk took seconds per request on this machine)."""
    headers = {"Cookie": cookie} if cookie else {"Authorization": auth}
    for path in dict.fromkeys(paths):
        request = urllib.request.Request(base + path, headers=headers)
        with urllib.request.urlopen(request, timeout=120) as answer:
            answer.read()


def _wrk(base: str, paths: list[str], cookie: str, auth: str, duration: int) -> str:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write("return {" + ",".join(f'"{p}"' for p in paths) + "}\n")
    env = {
        **os.environ,
        "HINDSIGHT_BENCH_PATHS": handle.name,
        "HINDSIGHT_BENCH_COOKIE": cookie,
        "HINDSIGHT_BENCH_AUTH": auth,
    }
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{CONNECTIONS}",
            f"-d{duration}s",
            "--timeout",
            "10s",
            "-s",
            str(HERE / "load.lua"),
            base,
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return next(line for line in out.splitlines() if line.startswith("RESULT")).removeprefix(
        "RESULT "
    )


def _token_of_seeded(url: str) -> str:
    """A new API token for the `bench` account of a database seeded earlier."""
    database = open_database(url)
    with database.transaction() as session:
        actor = next(a for a, _ in list_users(session) if a.username == "bench")
        token = create_token(session, actor=actor, name=f"bench {time.time():.0f}")
    database.dispose()
    return token


def run(kind: str, size: int, duration: int, folder: Path, seeded_url: str = "") -> list[str]:
    began = time.perf_counter()
    if seeded_url:  # seeded earlier by seed.py with `size` incidents
        url, token = seeded_url, _token_of_seeded(seeded_url)
    else:
        url = _database(kind, size, folder)
        token = seed(url, size)
    seeded = time.perf_counter() - began
    port = _port()
    env = {**os.environ, "HINDSIGHT_DATABASE_URL": url, "HINDSIGHT_DATA_DIR": str(folder)}
    server = subprocess.Popen(
        [sys.executable, "-m", "hindsight", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):  # a loaded machine takes a while to start two workers
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        cookie = _sign_in(base)
        rng = random.Random(1)
        visible = [n for n in range(size) if n % 50 or n % 100 == 0]  # restricted: members only
        keys = [f"{dt_key(n)}-incident-{n}" for n in rng.sample(visible, 200)]
        endpoints = {
            "baseline: /healthz": ["/healthz"],  # the framework's ceiling on this machine
            "list page": ["/"] + [f"/?page={rng.randint(1, size // 50)}" for _ in range(50)],
            "filtered list": [
                f"/?severity=SEV{s}&service=checkout&sort=updated" for s in range(1, 6)
            ],
            "postmortem page": [f"/incidents/{key}" for key in keys],
            "API list": [
                f"/api/v1/incidents?limit=50&offset={rng.randint(0, size - 50)}" for _ in range(50)
            ],
            "API postmortem": [f"/api/v1/incidents/{key}" for key in keys],
        }
        rows = []
        for name, paths in endpoints.items():
            auth = f"Bearer {token}" if name.startswith("API") else ""
            _warm(base, paths, cookie if not auth else "", auth)
            result = _wrk(base, paths, cookie if not auth else "", auth, duration)
            values = dict(item.split("=") for item in result.split())
            rows.append(
                f"| {kind} | {size:,} | {name} | {values['p50']} | {values['p95']} | "
                f"{values['p99']} | {values['rps']} | {values['errors']} |"
            )
            print(rows[-1], flush=True)
        how = "reused a database seeded earlier" if seeded_url else "seeded"
        print(f"({how}: {size:,} incidents, {seeded:.0f} s)", flush=True)
        return rows
    finally:
        server.terminate()
        try:  # uvicorn finishes the requests wrk left queued before it stops
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def dt_key(number: int) -> str:
    """The date part of a seeded incident's key."""
    import datetime as dt

    created = dt.datetime(2020, 1, 1) + dt.timedelta(minutes=37 * number)
    return created.strftime("%Y-%m-%d")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument(
        "--seeded",
        default="",
        help="URL of a database seed.py filled with --sizes incidents (one size and database)",
    )
    args = parser.parse_args()
    print("| Database | Incidents | Endpoint | p50 ms | p95 ms | p99 ms | req/s | errors |")
    print("|---|---:|---|---:|---:|---:|---:|---:|", flush=True)
    with tempfile.TemporaryDirectory() as folder:
        for size in (int(s) for s in args.sizes.split(",")):
            for kind in args.databases.split(","):
                run(kind, size, args.duration, Path(folder), args.seeded)


if __name__ == "__main__":
    main()
