"""`hindsight lint --archive` on other teams' real reports of every layout, read directly by
the archive reader: no crash, every finding on a line of the file, and language findings only
where the labelled corpus (the dev part of bench/language) says so."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hindsight.cli.main import app

DATA = Path(__file__).parent.parent / "data"
ARCHIVE = DATA / "archive"
LAYOUTS = sorted(p.name for p in ARCHIVE.iterdir() if p.is_dir())
with (DATA / "language" / "dev-sentences.tsv").open(encoding="utf-8") as _f:
    DEV = list(csv.DictReader(_f, delimiter="\t"))
# The dev part has no false alarm left ("not seing anything obviously wrong" is clean now).
KNOWN_FALSE_ALARMS: set[tuple[str, int]] = set()


def _lint(path: Path) -> dict:  # type: ignore[type-arg]
    result = CliRunner().invoke(app, ["lint", "--archive", "--format", "json", str(path)])
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def linted() -> dict[str, dict]:  # type: ignore[type-arg]
    return {layout: _lint(ARCHIVE / layout) for layout in LAYOUTS}


def test_every_layout_of_real_reports_is_reviewed_with_findings_on_lines_of_the_file(
    linted: dict[str, dict],  # type: ignore[type-arg]
) -> None:
    assert len(LAYOUTS) >= 4
    for layout, output in linted.items():
        assert output["files"], layout
        for file in output["files"]:
            lines = Path(file["path"]).read_text(encoding="utf-8").count("\n") + 1
            assert 0 <= file["score"] <= 100
            assert all(1 <= f["line"] <= lines for f in file["findings"]), file["path"]


def test_language_findings_on_corpus_reports_are_only_where_the_corpus_labels_them(
    linted: dict[str, dict],  # type: ignore[type-arg]
) -> None:
    labelled = {(r["file"], int(r["line"])) for r in DEV if r["labels"]}
    corpus_files = {r["file"] for r in DEV}
    checked = 0
    for output in linted.values():
        for file in output["files"]:
            name = Path(file["path"]).relative_to(ARCHIVE).as_posix()
            if name not in corpus_files:
                continue
            checked += 1
            for finding in file["findings"]:
                if finding["rule"].startswith("blameless/"):
                    where = (name, finding["line"])
                    assert where in labelled or where in KNOWN_FALSE_ALARMS, (where, finding)
    assert checked >= 10


def test_a_labelled_sentence_of_a_real_report_is_found_at_its_line(
    linted: dict[str, dict],  # type: ignore[type-arg]
) -> None:
    (file,) = [
        f
        for f in linted["univaf-incidents"]["files"]
        if f["path"].endswith("2021-06-29--actions-budget-terraform-state.md")
    ]
    lines = {f["line"] for f in file["findings"] if f["rule"].startswith("blameless/")}
    assert {11, 15, 61, 114, 118, 120} <= lines


def test_a_named_report_without_front_matter_is_read_by_the_archive_reader_by_default() -> None:
    report = ARCHIVE / "univaf-incidents" / "2021-06-29--actions-budget-terraform-state.md"
    runs = [
        CliRunner().invoke(app, ["lint", *extra, "--format", "json", str(report)])
        for extra in ([], ["--archive"])
    ]
    assert [r.exit_code for r in runs] == [runs[1].exit_code] * 2 and runs[0].exit_code in (0, 1)
    detected, forced = (json.loads(r.stdout)["files"] for r in runs)
    assert detected == forced
    lines = {f["line"] for f in detected[0]["findings"] if f["rule"].startswith("blameless/")}
    assert {11, 15, 61, 114, 118, 120} <= lines
    human = CliRunner().invoke(app, ["lint", str(report)])
    assert f"{report}:114: " in human.stdout


def test_a_named_pdf_report_is_read_without_archive(tmp_path: Path) -> None:
    import html

    import weasyprint  # type: ignore[import-untyped]

    report = ARCHIVE / "univaf-incidents" / "2021-06-29--actions-budget-terraform-state.md"
    text = html.escape(report.read_text(encoding="utf-8"))
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(
        weasyprint.HTML(string=f'<pre style="white-space: pre-wrap">{text}</pre>').write_pdf()
    )
    result = CliRunner().invoke(app, ["lint", "--format", "json", str(pdf)])
    assert result.exit_code in (0, 1), result.output
    (file,) = json.loads(result.stdout)["files"]
    assert file["path"] == str(pdf)
    rules = {f["rule"] for f in file["findings"] if f["rule"].startswith("blameless/")}
    assert {"blameless/person-cause", "blameless/counterfactual"} <= rules


def test_an_unreadable_report_in_archive_mode_is_exit_2_with_file_and_reason(
    tmp_path: Path,
) -> None:
    broken = tmp_path / "report.pdf"
    broken.write_bytes(b"%PDF-1.4 truncated")
    empty = tmp_path / "empty.md"
    empty.write_bytes(b"")
    for path in (broken, empty):
        for extra in ([], ["--archive"]):
            result = CliRunner().invoke(app, ["lint", *extra, str(path)])
            assert result.exit_code == 2, result.output
            assert result.stdout == ""
            assert result.stderr.startswith(f"error: {path}")


def test_a_guide_that_names_blame_phrases_is_not_reported_but_its_lapse_is(
    tmp_path: Path,
) -> None:
    guide = tmp_path / "writing-guide.md"
    guide.write_text(
        "# How we write postmortems\n\n"
        "## Summary\n\n"
        "A blameless review asks what made the action reasonable, not who is to blame.\n"
        'Phrases such as "human error" or "should have checked" end the analysis too early.\n\n'
        "## What happened\n\n"
        "The operator skipped one of the checks.\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["lint", "--archive", "--format", "json", str(guide)])
    assert result.exit_code in (0, 1), result.output
    (file,) = json.loads(result.stdout)["files"]
    blameless = {(f["line"], f["rule"]) for f in file["findings"] if "blameless/" in f["rule"]}
    assert blameless == {(10, "blameless/counterfactual"), (10, "blameless/person-cause")}
