"""Peak memory per MB of JSON evidence: Hindsight's reader against parsing the file whole.

    .venv/bin/python bench/ingest/json_memory.py --mb 20

Three shapes, each written to a temporary file of about `--mb` MB and read in a process of its
own: the worst case for Python objects (`[{},{},…]`, 24 bytes of objects per byte of text when
parsed whole), an array of generic events (`{"time": …, "text": …}`), and an object holding
the dense array (which cannot be streamed, and is refused). Peak memory is each process's
maximum RSS (os.wait4) minus that of a process that imports the same modules and reads nothing.
Results go to standard output as a Markdown table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PYTHON = sys.executable

READ = """
import sys
from hindsight.importers.base import EvidenceError, NoProgress, Source
from hindsight.importers.json_documents import iter_documents
if sys.argv[1] == "nothing":
    raise SystemExit(0)
(item,) = Source.open(__import__("pathlib").Path(sys.argv[2])).files
if sys.argv[1] == "whole":
    import json
    with open(sys.argv[2], "rb") as handle:
        document = json.load(handle)
    print(len(document))
    raise SystemExit(0)
try:
    print(sum(1 for _ in iter_documents(item, NoProgress())))
except EvidenceError as error:
    print("refused:", str(error).split(": ", 1)[1][:60])
"""


def write(path: Path, shape: str, megabytes: float) -> None:
    """A file of about `megabytes` MB in one of the three shapes."""
    target = int(megabytes * 1_000_000)
    with path.open("w", encoding="utf-8") as out:
        if shape == "dense array":
            out.write("[" + ",".join(["{}"] * (target // 3)) + "]")
        elif shape == "events array":
            start = dt.datetime(2024, 3, 5, tzinfo=dt.UTC)
            rows = (
                json.dumps(
                    {
                        "time": (start + dt.timedelta(seconds=n)).isoformat(),
                        "text": f"checkout-{n % 7} returned 502 for /cart (upstream reset) #{n}",
                        "kind": "log",
                    }
                )
                for n in range(target // 110)
            )
            out.write("[\n" + ",\n".join(rows) + "\n]")
        else:
            out.write('{"alerts": [' + ",".join(["{}"] * (target // 3)) + "]}")


def measure(*args: str) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MB) and output of one reading process."""
    begin = time.perf_counter()
    process = subprocess.Popen(
        [PYTHON, "-c", READ, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - begin
    out = process.stdout.read().decode().strip() if process.stdout else ""
    if status != 0:
        error = process.stderr.read().decode() if process.stderr else ""
        raise SystemExit(f"{args} failed: {error[-2000:]}")
    return seconds, usage.ru_maxrss / 1024, out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=float, default=20.0)
    args = parser.parse_args()
    print(
        f"Date: {dt.date.today()} · machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()} · command: `{' '.join(sys.argv)}`\n"
    )
    print(
        "| shape | file | hindsight peak RSS | per MB of input | seconds | result | "
        "parsed whole: peak RSS | per MB |"
    )
    print("|---|---:|---:|---:|---:|---|---:|---:|")
    _, floor, _ = measure("nothing", "-")
    with tempfile.TemporaryDirectory() as folder:
        for shape in ("dense array", "events array", "dense object"):
            path = Path(folder) / "evidence.json"
            write(path, shape, args.mb)
            size = path.stat().st_size / 1e6
            seconds, ours, out = measure("stream", str(path))
            _, whole, _ = measure("whole", str(path))
            result = out if out.startswith("refused") else f"{int(out):,} documents"
            print(
                f"| {shape} | {size:,.1f} MB | {ours - floor:,.0f} MB | "
                f"{(ours - floor) / size:,.1f} MB | {seconds:,.1f} | {result} | "
                f"{whole - floor:,.0f} MB | {(whole - floor) / size:,.1f} MB |",
                flush=True,
            )
            path.unlink()


if __name__ == "__main__":
    main()
