"""The Markdown form: readable layout, exact round trip, and precise errors for bad files."""

from __future__ import annotations

import pytest

from hindsight.errors import DocumentError
from hindsight.rendering.markdown import render_markdown
from hindsight.rendering.markdown_reader import read_markdown
from tests.factories import make_postmortem


def _document() -> str:
    return render_markdown(make_postmortem())


def _errors(text: str) -> list[tuple[int, str, str]]:
    with pytest.raises(DocumentError) as caught:
        read_markdown(text, "bad.md")
    assert all(problem.source == "bad.md" for problem in caught.value.problems)
    return [(p.line, p.field, p.reason) for p in caught.value.problems]


def _line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.split("\n"), 1) if needle in line)


def test_export_has_front_matter_one_section_per_part_and_tables() -> None:
    text = _document()
    assert text.startswith("---\nhindsight: 1\nkey: 2024-03-05-checkout-errors\n")
    for heading in (
        "## Overview",
        "### Timeline",
        "## Root cause analysis",
        "## Impact",
        "## Response",
        "## Lessons learned",
        "## Action items",
    ):
        assert f"\n{heading}\n" in text
    assert "| Time | Zone | Event | Kind | Actor | Source | Key moment | Provenance |" in text
    assert "| Time to resolve | 42m |" in text
    assert "| 1 | Add config lint to CI | prevent | Ana | P3 | 2024-04-01 | open |  |  |" in text


def test_export_import_export_is_byte_identical() -> None:
    text = _document()
    assert render_markdown(read_markdown(text)) == text


def test_a_bad_severity_is_refused_with_its_line_and_field() -> None:
    text = _document().replace("severity: SEV2", "severity: SEV9")
    [(line, field, reason)] = _errors(text)
    assert line == _line_of(text, "severity: SEV9")
    assert field == "severity"
    assert "SEV1" in reason and "SEV5" in reason


def test_an_unparseable_time_is_refused_with_its_table_row() -> None:
    text = _document().replace("2024-03-05 09:04:00+00:00", "yesterday around nine")
    [(line, field, reason)] = _errors(text)
    assert line == _line_of(text, "yesterday around nine")
    assert field == "timeline[1].at"
    assert "datetime" in reason


def test_a_time_without_zone_is_refused() -> None:
    text = _document().replace("2024-03-05 09:04:00+00:00 | UTC", "2024-03-05 09:04:00 | ")
    [(line, field, reason)] = _errors(text)
    assert line == _line_of(text, "2024-03-05 09:04:00 |")
    assert field == "timeline[1].at"
    assert "no time zone" in reason


def test_a_missing_title_is_refused() -> None:
    text = _document().replace("title: Checkout errors after a config push\n", "")
    problems = _errors(text)
    assert "title" in {field for _, field, _ in problems}
    assert any("required" in reason for _, field, reason in problems if field == "title")


def test_broken_front_matter_is_refused_with_the_yaml_line() -> None:
    text = _document().replace("severity: SEV2", "severity: [SEV2")
    [(line, field, reason)] = _errors(text)
    assert field == "front matter"
    assert "not valid YAML" in reason
    assert line >= _line_of(text, "severity: [SEV2")


def test_a_file_without_front_matter_is_refused_on_line_one() -> None:
    assert _errors("# Just a title\n") == [
        (1, "", "the file must start with a '---' line opening the YAML front matter")
    ]


def test_unclosed_front_matter_is_refused() -> None:
    [(line, _, reason)] = _errors("---\nkey: a\ntitle: b\n")
    assert line == 1 and "never closed" in reason


def test_an_unknown_section_is_refused_rather_than_silently_dropped() -> None:
    text = _document().replace("## Lessons learned", "## Lessons we learned")
    [(line, _, reason)] = _errors(text)
    assert line == _line_of(text, "## Lessons we learned")
    assert "unknown section" in reason


def test_a_heading_that_differs_from_the_title_is_refused() -> None:
    text = _document().replace("# Checkout errors after a config push", "# Another title")
    [(line, field, reason)] = _errors(text)
    assert (line, field) == (_line_of(text, "# Another title"), "title")
    assert "make them the same" in reason


def test_an_action_marked_wont_do_without_reason_is_refused_on_its_row() -> None:
    text = _document().replace("| open |  |  |", "| wont_do |  |  |")
    [(line, field, reason)] = _errors(text)
    assert line == _line_of(text, "| wont_do |")
    assert field == "action_items[0].reason"
    assert "needs a reason" in reason


def test_a_table_row_with_an_unescaped_pipe_is_refused() -> None:
    text = _document().replace("Add config lint to CI", "Add config | lint")
    [(line, _, reason)] = _errors(text)
    assert line == _line_of(text, "Add config | lint")
    assert "\\|" in reason


def test_every_problem_is_reported_at_once() -> None:
    text = (
        _document()
        .replace("severity: SEV2", "severity: SEV0")
        .replace("status: investigating", "status: sleeping")
    )
    fields = {field for _, field, _ in _errors(text)}
    assert {"severity", "status"} <= fields


def test_hand_written_tables_may_reorder_columns() -> None:
    text = _document().replace(
        "| Category | Factor |\n|---|---|\n| change | No config lint |",
        "| Factor | Category |\n| --- | :---: |\n| No config lint | change |",
    )
    assert read_markdown(text) == make_postmortem()


def test_prose_keeps_code_blocks_with_hash_comments() -> None:
    summary = "Ran this:\n\n```bash\n# restart the hub\nkubectl delete pod hub\n```"
    postmortem = make_postmortem(summary=summary)
    assert read_markdown(render_markdown(postmortem)).summary == summary


def test_a_postmortem_exported_before_item_ids_imports_onto_the_same_items() -> None:
    """The demo as exported before migration 0006 (no Id column, plain lessons) reads into the
    same postmortem, ids included, as today's export of it: ids derive from content."""
    from pathlib import Path

    from hindsight.services.demo import demo_document

    legacy = Path(__file__).parents[1] / "data" / "postmortems" / "exported-before-item-ids.md"
    old = read_markdown(legacy.read_text(encoding="utf-8"))
    assert old == read_markdown(demo_document())
    assert render_markdown(old) == demo_document()


def test_ids_are_kept_through_the_markdown_form_and_a_duplicate_is_refused_on_its_line() -> None:
    pm = make_postmortem()
    text = render_markdown(pm)
    event = pm.timeline[1]
    assert f"| {event.id} |" in text and f"<!-- id: {pm.lessons[0].id} -->" in text
    assert read_markdown(text) == pm
    duplicate = text.replace(pm.timeline[2].id, event.id)
    with pytest.raises(DocumentError, match=r":\d+: timeline\[\d\]\.id: .* is also the id"):
        read_markdown(duplicate, "pm.md")
