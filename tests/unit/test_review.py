"""The review around the language rules: five whys, silences on real-shaped timelines, a score
that counts a repeated problem once, and files lint refuses (exit 2, file and reason)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hindsight.analysis.lint import lint
from hindsight.cli.main import app
from hindsight.domain.actions import ActionItem, ActionKind
from hindsight.domain.rca import Why
from hindsight.domain.timeline import KeyMoment, TimelineEvent
from hindsight.services.demo import demo_document
from tests.factories import make_postmortem

START = dt.datetime(2024, 3, 5, 10, 0, tzinfo=dt.UTC)


def _with_whys(*answers: str):  # type: ignore[no-untyped-def]
    pm = make_postmortem()
    whys = tuple(Why(question=f"Why {i}?", answer=a) for i, a in enumerate(answers))
    return dataclasses.replace(pm, analysis=dataclasses.replace(pm.analysis, five_whys=whys))


def test_five_whys_ending_at_human_error_suggest_asking_what_made_it_reasonable() -> None:
    pm = _with_whys(
        "The deploy pushed a config with an empty upstream list.",
        "The config validator accepted an empty list.",
        "Human error during the manual edit.",
    )
    (finding,) = [f for f in lint(pm).findings if f.rule == "analysis/five-whys-person"]
    assert finding.field == "analysis.five_whys[2].answer"
    assert "human error" in finding.message.lower()
    assert "reasonable at the time" in finding.suggestion


def test_five_whys_of_system_conditions_get_no_finding_and_a_person_midway_is_a_note() -> None:
    clean = _with_whys(
        "The deploy pushed a config with an empty upstream list.",
        "The config validator accepted an empty list.",
    )
    assert not [f for f in lint(clean).findings if f.rule.startswith("analysis/five-whys")]
    midway = _with_whys(
        "Ana ran the edit by hand.", "The edit tool has no schema check for upstream lists."
    )
    rules = [f.rule for f in lint(midway).findings if f.rule.startswith("analysis/five-whys")]
    assert rules == ["analysis/five-whys-condition"]


def _event(minutes: float, text: str, moment: KeyMoment | None = None) -> TimelineEvent:
    return TimelineEvent(at=START + dt.timedelta(minutes=minutes), text=text, key_moment=moment)


def test_a_23_hour_silence_is_reported_from_the_first_event_without_an_impact_start() -> None:
    timeline = [
        _event(0, "retirement notice e-mailed"),
        _event(23 * 60, "node retired"),
        _event(23 * 60 + 3, "prometheus down", KeyMoment.DETECTED),
        _event(23 * 60 + 30, "pod killed", KeyMoment.RESOLVED),
    ]
    pm = dataclasses.replace(make_postmortem(), timeline=tuple(timeline))
    found = [(f.rule, f.message) for f in lint(pm).findings if f.rule.startswith("timeline/")]
    assert found == [
        (
            "timeline/detection-delay",
            "23 hours with no event before detection, after 2024-03-05 10:00 UTC: "
            "a detection delay",
        )
    ]


def test_silence_before_detection_is_a_detection_delay_and_after_it_a_gap() -> None:
    timeline = [
        _event(0, "errors start", KeyMoment.IMPACT_STARTED),
        _event(50, "alert", KeyMoment.DETECTED),
        _event(100, "rolled back", KeyMoment.MITIGATED),
        _event(110, "closed", KeyMoment.RESOLVED),
    ]
    pm = dataclasses.replace(make_postmortem(), timeline=tuple(timeline))
    found = [f.rule for f in lint(pm).findings if f.rule.startswith("timeline/")]
    assert found == ["timeline/detection-delay", "timeline/gap"]


def test_twelve_action_items_without_owners_are_one_problem_with_a_count() -> None:
    items = tuple(
        ActionItem(title=f"Add alert {n} on 5xx", kind=ActionKind.DETECT, due=dt.date(2024, 4, 1))
        for n in range(12)
    )
    one = lint(dataclasses.replace(make_postmortem(), action_items=items[:1]))
    twelve = lint(dataclasses.replace(make_postmortem(), action_items=items))
    (problem,) = [p for p in twelve.problems if p.rule == "actions/owner"]
    assert problem.count == 12 and problem.part == "actions"
    assert twelve.score == one.score
    assert twelve.parts["actions"].problems == one.parts["actions"].problems


def test_language_problems_count_against_the_clarity_of_their_part() -> None:
    pm = make_postmortem(lessons=[{"text": "We should have rotated the key sooner."}])
    report = lint(pm)
    assert report.parts["lessons"].clarity_problems >= 1
    assert report.parts["lessons"].complete
    assert report.parts["impact"].clarity_problems == 0


def test_the_demo_postmortem_still_has_no_errors() -> None:
    from hindsight.rendering.markdown_reader import read_markdown

    assert lint(read_markdown(demo_document(), "demo.md")).errors == []


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "is empty: nothing to review"),
        (b"   \n\n", "is empty: nothing to review"),
        ("---\ntitle: Caf\xe9\n---\n".encode("latin-1"), "is not UTF-8 text"),
        (b"---\n\x00\x01\x02", "is binary, not text"),
    ],
)
def test_an_unreadable_or_empty_file_is_exit_2_with_the_file_and_reason(
    tmp_path: Path, content: bytes, reason: str
) -> None:
    path = tmp_path / "report.md"
    path.write_bytes(content)
    result = CliRunner().invoke(app, ["lint", str(path), "--format", "json"])
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert str(path) in result.stderr and reason in result.stderr


def test_a_huge_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.md"
    with path.open("wb") as f:
        f.truncate(21 * 1024 * 1024)
    result = CliRunner().invoke(app, ["lint", str(path)])
    assert result.exit_code == 2
    assert f"{path}: is {21 * 1024 * 1024} bytes" in result.stderr


def test_a_repeated_excerpt_is_reported_at_each_line_where_it_occurs(tmp_path: Path) -> None:
    text = demo_document().replace(
        "## Lessons learned\n",
        "## Lessons learned\n\n- Someone forgot to renew it.\n- Someone forgot to page.\n",
        1,
    )
    assert text != demo_document()
    path = tmp_path / "pm.md"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(app, ["lint", str(path)])
    lines = [n for n, row in enumerate(text.split("\n"), start=1) if "Someone forgot" in row]
    assert len(lines) == 2
    for line in lines:
        assert f"{path}:{line}: warning [blameless/forgot]" in result.output


def test_json_output_gives_problems_with_counts_and_each_part_s_completeness_and_clarity(
    tmp_path: Path,
) -> None:
    import json

    path = tmp_path / "pm.md"
    path.write_text(demo_document(), encoding="utf-8")
    result = CliRunner().invoke(app, ["lint", str(path), "--format", "json"])
    (file,) = json.loads(result.stdout)["files"]
    owners = [p for p in file["problems"] if p["rule"] == "actions/owner"]
    assert len(owners) == 1 and owners[0]["count"] == sum(
        1 for f in file["findings"] if f["rule"] == "actions/owner"
    )
    assert set(file["parts"]) >= {"overview", "analysis", "lessons", "actions"}
    assert file["parts"]["lessons"] == {"complete": True, "clarity_problems": 0, "problems": 0}
