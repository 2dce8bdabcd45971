"""`hindsight lint`: an explainable review of postmortems kept as Markdown files."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer
from rich.text import Text

from hindsight import __version__
from hindsight.analysis.findings import Level
from hindsight.cli.context import console
from hindsight.services.lint import (
    FileReport,
    lint_reports,
    lint_texts,
    read_postmortem_files,
)

_SARIF_LEVEL = {Level.ERROR: "error", Level.WARNING: "warning", Level.INFO: "note"}
_STYLE = {Level.ERROR: "bold red", Level.WARNING: "yellow", Level.INFO: "cyan"}


class OutputFormat(StrEnum):
    """How findings are printed."""

    HUMAN = "human"
    JSON = "json"
    SARIF = "sarif"


def _json(reports: list[FileReport], skipped: list[Path]) -> dict[str, Any]:
    return {
        "skipped": [str(path) for path in skipped],
        "files": [
            {
                "path": str(r.path),
                "score": r.report.score,
                "checklist": r.report.checklist,
                "parts": {
                    part: {
                        "complete": score.complete,
                        "clarity_problems": score.clarity_problems,
                        "problems": score.problems,
                    }
                    for part, score in r.report.parts.items()
                },
                "problems": [
                    {"rule": p.rule, "level": p.level.value, "part": p.part, "count": p.count}
                    for p in r.report.problems
                ],
                "findings": [
                    {
                        "rule": f.rule,
                        "level": f.level.value,
                        "part": f.part,
                        "field": f.field,
                        "line": line,
                        "message": f.message,
                        "suggestion": f.suggestion,
                        "excerpt": f.excerpt,
                    }
                    for f, line in zip(r.report.findings, r.lines, strict=True)
                ],
            }
            for r in reports
        ],
    }


def sarif(reports: list[FileReport]) -> dict[str, Any]:
    """The findings as SARIF 2.1.0, for code-scanning tools."""
    rules = sorted({f.rule for r in reports for f in r.report.findings})
    results = [
        {
            "ruleId": f.rule,
            "level": _SARIF_LEVEL[f.level],
            "message": {"text": f"{f.message}. {f.suggestion}".strip().rstrip(".") + "."},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": r.path.as_posix()},
                        "region": {"startLine": line},
                    }
                }
            ],
        }
        for r in reports
        for f, line in zip(r.report.findings, r.lines, strict=True)
    ]
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "hindsight",
                        "version": __version__,
                        "rules": [
                            {"id": rule, "shortDescription": {"text": rule}} for rule in rules
                        ],
                    }
                },
                "results": results,
            }
        ],
    }


def lint_command(
    paths: list[Path] = typer.Argument(..., help="Markdown postmortems, or folders of them."),
    fmt: OutputFormat = typer.Option(
        OutputFormat.HUMAN, "--format", "-f", help="human, json or sarif."
    ),
    archive: bool = typer.Option(
        False,
        "--archive",
        help="In folders too, review other teams' reports (Markdown without front matter, "
        "PDF) through the archive reader; a file named on its own is detected without it.",
    ),
) -> None:
    """Review postmortems for completeness, action items, blameless language and timeline gaps.
    A Hindsight Markdown or JSON file is read as such; any other Markdown or PDF report named
    is read through the archive reader, with findings at lines of the original file. Exits 1
    when any file has an error-level finding (for CI), 2 when a file cannot be read."""
    files = read_postmortem_files(paths, archive=archive)
    reports = sorted(
        [*lint_texts(files.texts), *lint_reports(files.reports)], key=lambda r: str(r.path)
    )
    if fmt is OutputFormat.JSON:
        typer.echo(json.dumps(_json(reports, files.skipped), indent=2))
    elif fmt is OutputFormat.SARIF:
        typer.echo(json.dumps(sarif(reports), indent=2))
    else:
        for report in reports:
            console.print(
                Text(
                    f"{report.path}  score {report.report.score}/100 "
                    f"({len(report.report.problems)} problems in "
                    f"{len(report.report.findings)} findings; a repeated problem counts once)",
                    style="bold",
                ),
                soft_wrap=True,
            )
            for finding, line in zip(report.report.findings, report.lines, strict=True):
                where = Text(f"  {report.path}:{line}: ")
                where.append(f"{finding.level.value} ", style=_STYLE[finding.level])
                where.append(f"[{finding.rule}] {finding.message}")
                console.print(where, soft_wrap=True)
                if finding.suggestion:
                    console.print(
                        Text(f"      → {finding.suggestion}", style="dim"), soft_wrap=True
                    )
        for path in files.skipped:
            console.print(
                Text(
                    f"skipped {path}: no Hindsight front matter (name the file, or use "
                    "--archive, to read it as another team's report)",
                    style="dim",
                ),
                soft_wrap=True,
            )
        if not reports:
            console.print(Text("no postmortems found"))
    if any(report.report.errors for report in reports):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("lint")(lint_command)
