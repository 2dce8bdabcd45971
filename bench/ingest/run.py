"""Log import speed and memory: `hindsight import-evidence … logs` against drain3 and a bare
Python line count, side by side on the same files, each in its own process.

    .venv/bin/python bench/ingest/run.py --lines 1000000,10000000

The logs are built by replaying the 16 loghub 2k samples (tests/data/loghub) with their digits
varied at random (so ids, addresses and counters differ from line to line, as in real logs)
and increasing ISO 8601 timestamps. drain3 runs with its defaults over the first
`--drain3-lines` lines of each file (at ~30k lines/s a 10M-line run would take six minutes; its
rate does not depend on the file's length). Peak memory is each process's maximum RSS
(os.wait4). Results go to standard output as a Markdown table.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import gzip
import io
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOGHUB = ROOT / "tests" / "data" / "loghub"
PYTHON = sys.executable
POOL = 100_000


def _pool(seed: int) -> list[str]:
    rng = random.Random(seed)
    contents: list[str] = []
    for path in sorted(LOGHUB.glob("*_2k.log_structured.csv.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            level = "Level" if "Level" in (handle.readline() or "") else None
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            for row in csv.DictReader(io.StringIO(handle.read())):
                word = row.get(level or "", "") or "INFO"
                contents.append(f"{word} {row['Content']}".replace("\n", " "))
    digits = "0123456789"
    varied = []
    for index in range(POOL):
        line = contents[index % len(contents)]
        varied.append("".join(rng.choice(digits) if c.isdigit() else c for c in line))
    rng.shuffle(varied)
    return varied


def build(path: Path, lines: int) -> None:
    """Write `lines` replayed lines over one day, with increasing timestamps."""
    pool = _pool(lines)
    start = dt.datetime(2026, 11, 27, tzinfo=dt.UTC)
    step = 86_400 / lines
    with path.open("w", encoding="utf-8", buffering=1 << 22) as out:
        for index in range(lines):
            at = start + dt.timedelta(seconds=index * step)
            out.write(
                f"{at:%Y-%m-%dT%H:%M:%S}.{at.microsecond // 1000:03d}Z {pool[index % POOL]}\n"
            )


def measure(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one process."""
    begin = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - begin
    if status != 0:
        error = process.stderr.read().decode() if process.stderr else ""
        raise SystemExit(f"{command[:3]} failed: {error[-2000:]}")
    return seconds, usage.ru_maxrss / 1024


COUNT = "import sys\nn = 0\nwith open(sys.argv[1], 'rb') as f:\n    for _ in f: n += 1\n"
DRAIN3 = (
    "import logging, sys\nlogging.disable(logging.CRITICAL)\n"
    "from drain3 import TemplateMiner\nm = TemplateMiner()\nlimit = int(sys.argv[2])\n"
    "with open(sys.argv[1], encoding='utf-8') as f:\n"
    "    for i, line in enumerate(f):\n"
    "        if i >= limit: break\n"
    "        m.add_log_message(line.rstrip('\\n'))\n"
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", default="1000000,10000000")
    parser.add_argument("--drain3-lines", type=int, default=300_000)
    args = parser.parse_args()
    print(
        f"Date: {dt.date.today()} · machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()} · command: `{' '.join(sys.argv)}`\n"
    )
    print(
        "| lines | file | bare read lines/s | drain3 lines/s | hindsight lines/s | "
        "hindsight vs drain3 | hindsight peak RSS | drain3 peak RSS |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        env = {**os.environ, "HINDSIGHT_DATA_DIR": str(work / "data"), "HINDSIGHT_AUTHOR": "bench"}
        hindsight = [PYTHON, "-m", "hindsight"]
        key = "bench-incident"
        subprocess.run(
            [*hindsight, "new", "--title", "Bench incident", "--severity", "SEV3", "--key", key],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        for count in (int(n) for n in args.lines.split(",")):
            log = work / f"replay-{count}.log"
            build(log, count)
            size = log.stat().st_size / 1e6
            bare, _ = measure([PYTHON, "-c", COUNT, str(log)])
            drained = min(count, args.drain3_lines)
            drain_s, drain_mb = measure([PYTHON, "-c", DRAIN3, str(log), str(drained)])
            ours_s, ours_mb = measure(
                [*hindsight, "import-evidence", key, "logs", str(log)], env=env
            )
            drain_rate = drained / drain_s
            ours_rate = count / ours_s
            print(
                f"| {count:,} | {size:,.0f} MB | {count / bare:,.0f} | {drain_rate:,.0f} | "
                f"{ours_rate:,.0f} | {ours_rate / drain_rate:.0f}x | {ours_mb:,.0f} MB | "
                f"{drain_mb:,.0f} MB |",
                flush=True,
            )
            log.unlink()


if __name__ == "__main__":
    main()
