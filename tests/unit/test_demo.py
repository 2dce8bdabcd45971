"""The demo incident is faithful to the published report it was built from."""

from __future__ import annotations

import re
from pathlib import Path

from hindsight.rendering.markdown_reader import read_markdown
from hindsight.services.demo import demo_document

REPORT = Path(__file__).parents[1] / "data" / "postmortems" / "2018-01-18-reddit-hug.md"


def test_every_demo_event_points_at_the_report_line_with_its_time() -> None:
    report = REPORT.read_text(encoding="utf-8").split("\n")
    demo = read_markdown(demo_document(), "demo.md")
    assert len(demo.timeline) == 25
    for event in demo.timeline:
        [provenance] = event.provenance
        line = report[int(provenance.locator.removeprefix("L")) - 1]
        local = event.local_time
        assert line.startswith("### "), line
        assert re.search(rf"\b{local.hour}:{local.minute:02d}\b", line), (line, local)
        assert local.strftime("%Z") == "PST"  # the report says "All times in PST"


def test_the_demo_has_all_six_parts_and_derived_metrics() -> None:
    demo = read_markdown(demo_document(), "demo.md")
    assert demo.summary and demo.analysis.root_causes and demo.impact.narrative
    assert demo.response.went_wrong and demo.lessons and demo.action_items
    assert set(demo.key_moments()) == {
        "impact_started",
        "detected",
        "acknowledged",
        "mitigated",
        "resolved",
    }
