"""Time to render a postmortem with 2,000 timeline events and 100 action items to each format
and template, against `json.dumps` of the same data in the same run (the machine is noisy):

    .venv/bin/python bench/render/run.py

Targets: under 1 s for HTML and Markdown, under 5 s for PDF.
"""

from __future__ import annotations

import datetime as dt
import json
import platform
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from run import best_of, big_postmortem

from hindsight.domain.codec import postmortem_to_dict
from hindsight.rendering.markdown import render_markdown
from hindsight.rendering.reports import BUILT_IN, render_pdf, standalone_html


def main() -> None:
    pm = big_postmortem()
    print(
        f"# {dt.date.today()} · {platform.machine()} · Python {platform.python_version()} · "
        f"{len(pm.timeline)} events, {len(pm.action_items)} action items · "
        f"command: `{' '.join(sys.argv)}`\n"
    )
    baseline = best_of(lambda: json.dumps(postmortem_to_dict(pm), default=str))
    print("| what | median ms | vs json.dumps |\n|---|---:|---:|")
    print(f"| json.dumps (baseline) | {baseline:.1f} | 1.0x |")
    markdown = best_of(lambda: render_markdown(pm))
    print(f"| Markdown | {markdown:.1f} | {markdown / baseline:.1f}x |")
    for name in BUILT_IN:
        html = best_of(lambda name=name: standalone_html(pm, name))  # type: ignore[misc]
        print(f"| HTML {name} | {html:.1f} | {html / baseline:.1f}x |", flush=True)
    for name in BUILT_IN:
        pdf = best_of(lambda name=name: render_pdf(pm, name))  # type: ignore[misc]
        print(f"| PDF {name} | {pdf:.0f} | {pdf / baseline:.0f}x |", flush=True)


if __name__ == "__main__":
    main()
