"""`hindsight lint` on Markdown files: human, JSON and SARIF output, exit status for CI."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from hindsight.cli.main import app
from hindsight.rendering.json_form import render_json
from hindsight.rendering.markdown_reader import read_markdown
from hindsight.services.demo import demo_document


def _demo(tmp_path: Path) -> Path:
    good = tmp_path / "reddit-hug.md"
    good.write_text(demo_document(), encoding="utf-8")
    return good


def test_a_clean_folder_exits_0_and_names_each_finding_with_file_and_line(tmp_path: Path) -> None:
    good = _demo(tmp_path)
    result = CliRunner().invoke(app, ["lint", str(good)])
    assert result.exit_code == 0, result.output
    assert "score" in result.output
    line = (
        demo_document()
        .split("\n")
        .index(next(row for row in demo_document().split("\n") if "Gather the commands" in row))
        + 1
    )
    assert f"{good}:{line}: warning [actions/owner] 'Gather the commands" in result.output


def test_errors_exit_1_and_sarif_points_at_the_line(tmp_path: Path) -> None:
    _demo(tmp_path)
    broken = tmp_path / "draft.md"
    broken.write_text(
        demo_document().replace("## Action items", "## Action items\n\n| x |"), encoding="utf-8"
    )
    result = CliRunner().invoke(app, ["lint", str(tmp_path), "--format", "sarif"])
    assert result.exit_code == 1
    sarif = json.loads(result.stdout)
    assert sarif["version"] == "2.1.0"
    results = sarif["runs"][0]["results"]
    read_errors = [r for r in results if r["ruleId"] == "read"]
    assert read_errors and read_errors[0]["level"] == "error"
    location = read_errors[0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"].endswith("draft.md")
    assert location["region"]["startLine"] > 1
    rules = {rule["id"] for rule in sarif["runs"][0]["tool"]["driver"]["rules"]}
    assert {r["ruleId"] for r in results} <= rules


def test_json_output_has_score_checklist_and_findings(tmp_path: Path) -> None:
    good = _demo(tmp_path)
    result = CliRunner().invoke(app, ["lint", str(good), "--format", "json"])
    data = json.loads(result.stdout)
    (file,) = data["files"]
    assert file["score"] < 100 and all(file["checklist"].values())
    assert {f["rule"] for f in file["findings"]} >= {"actions/owner", "timeline/gap"}


def test_timeline_rows_written_out_of_order_are_pointed_to(tmp_path: Path) -> None:
    lines = demo_document().split("\n")
    rows = [i for i, line in enumerate(lines) if line.startswith("| 2018-01-18 04:")]
    first, second = rows[0], rows[1]
    lines[first], lines[second] = lines[second], lines[first]
    swapped = tmp_path / "swapped.md"
    swapped.write_text("\n".join(lines), encoding="utf-8")
    result = CliRunner().invoke(app, ["lint", str(swapped), "--format", "json"])
    (order,) = [
        f
        for f in json.loads(result.stdout)["files"][0]["findings"]
        if f["rule"] == "timeline/order"
    ]
    assert order["line"] == second + 1
    assert "written after a later one" in order["message"]


# A 1x1 PNG: what `hindsight lint *` meets in a folder with screenshots.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


def test_lint_of_a_missing_file_an_image_empty_or_foreign_json_is_exit_2_never_a_score(
    tmp_path: Path,
) -> None:
    picture = tmp_path / "diagram.png"
    picture.write_bytes(PNG)
    empty = tmp_path / "empty.md"
    empty.write_text("  \n", encoding="utf-8")
    foreign = tmp_path / "export.json"
    foreign.write_text('{"incidents": []}', encoding="utf-8")
    missing = tmp_path / "missing.md"
    for fmt in ("human", "json", "sarif"):
        result = CliRunner().invoke(
            app,
            ["lint", str(missing), str(picture), str(empty), str(foreign), "--format", fmt],
        )
        assert result.exit_code == 2, (fmt, result.output)
        assert result.stdout == ""
        assert result.stderr.splitlines() == [
            f"error: {missing}: no such file or folder",
            f"error: {picture}:1: is not UTF-8 text",
            f"error: {empty}:1: is empty: nothing to review",
            f"error: {foreign}:1: is JSON but not a Hindsight postmortem: it must be an object "
            "with a 'hindsight' format field (as `hindsight export --format json` writes); "
            "other teams' reports are read from Markdown or PDF",
        ]


def test_a_hindsight_json_postmortem_is_linted_like_its_markdown(tmp_path: Path) -> None:
    good = _demo(tmp_path)
    exported = tmp_path / "reddit-hug.json"
    exported.write_text(render_json(read_markdown(demo_document())), encoding="utf-8")
    runs = [
        json.loads(CliRunner().invoke(app, ["lint", str(path), "-f", "json"]).stdout)["files"]
        for path in (good, exported)
    ]
    (markdown,), (from_json,) = runs
    assert from_json["path"] == str(exported)
    assert from_json["score"] == markdown["score"]
    assert sorted(f["rule"] for f in from_json["findings"]) == sorted(
        f["rule"] for f in markdown["findings"]
    )


def test_lint_of_a_folder_sets_aside_markdown_that_is_not_a_postmortem(tmp_path: Path) -> None:
    _demo(tmp_path)
    (tmp_path / "README.md").write_text("# Our postmortems\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["lint", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert f"skipped {tmp_path / 'README.md'}: no Hindsight front matter" in result.stdout
    assert result.stdout.count("score") == 1
    data = json.loads(CliRunner().invoke(app, ["lint", str(tmp_path), "-f", "json"]).stdout)
    assert data["skipped"] == [str(tmp_path / "README.md")] and len(data["files"]) == 1
