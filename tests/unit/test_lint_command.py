"""`hindsight lint` on Markdown files: human, JSON and SARIF output, exit status for CI."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from hindsight.cli.main import app
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
