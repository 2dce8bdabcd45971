"""Render the demo incident through every built-in template, as HTML and PDF, plus its Markdown
form, into this folder:  .venv/bin/python docs/examples/generate.py"""

from __future__ import annotations

from pathlib import Path

from hindsight.rendering.markdown_reader import read_markdown
from hindsight.rendering.reports import BUILT_IN, render_pdf, standalone_html
from hindsight.services.demo import demo_document

HERE = Path(__file__).parent

postmortem = read_markdown(demo_document(), "demo.md")
(HERE / "reddit-hugs-mybinder.md").write_text(demo_document(), encoding="utf-8")
for name in BUILT_IN:
    (HERE / f"{name}.html").write_text(standalone_html(postmortem, name), encoding="utf-8")
    (HERE / f"{name}.pdf").write_bytes(render_pdf(postmortem, name))
    print(f"wrote {name}.html and {name}.pdf")
