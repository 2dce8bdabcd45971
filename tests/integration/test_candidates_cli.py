"""`hindsight candidates` end to end on both databases, and the proposals warning of
`import-evidence` on a folder that spans years."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from hindsight.cli.main import app

DEMO = "2018-01-18-reddit-hugs-mybinder"
DATA = Path(__file__).parent.parent / "data"
GIT = DATA / "git" / "mybinder.org-deploy.first-parent.2018-01.jsonl"


def _cli(url: str, *args: str, ok: bool = True) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        app, ["--database-url", url, "--author", "cli-test", *args], env={"COLUMNS": "200"}
    )
    if ok:
        assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    return result.exit_code, result.stdout, result.stderr


def test_candidates_list_explain_accept_and_proposals_spanning_years_warn(
    empty_database_url: str, tmp_path: Path
) -> None:
    url = empty_database_url
    _cli(url, "demo")
    _cli(url, "import-evidence", DEMO, "git", str(GIT), "--any-time")
    _, table, _ = _cli(url, "candidates", DEMO)
    assert "the marked 'impact started' moment" in table and "#287" in table
    _, raw, _ = _cli(url, "candidates", DEMO, "--json")
    top = json.loads(raw)["candidates"][0]
    assert top["rank"] == 1 and "#287" in top["text"]
    _, said, _ = _cli(url, "candidates", DEMO, "--accept", top["ref"], "--as", "factor")
    assert f"{top['ref']} is now a contributing factor of {DEMO}" in said
    code, _, error = _cli(
        url, "candidates", DEMO, "--accept", top["ref"], "--as", "trigger", ok=False
    )
    assert code == 1 and "the trigger is already written" in error
    code, _, error = _cli(url, "candidates", DEMO, "--accept", "x", "--as", "cause", ok=False)
    assert code == 2 and "--as must be 'trigger' or 'factor'" in error

    # Evidence of other incidents, years apart: the proposals warn instead of durations.
    folder = tmp_path / "pagerduty"
    folder.mkdir()
    for name in (
        "GET_incidents__200__response.json",
        "webhooks-v2_02_incident.acknowledge.json",
        "webhooks-v2_03_incident.resolve.json",
    ):
        (folder / name).write_bytes((DATA / "pagerduty" / name).read_bytes())
    _, said, _ = _cli(url, "import-evidence", DEMO, "pagerduty", str(folder), "--any-time")
    assert "days apart" in said and "no durations are computed" in " ".join(said.split())
    assert "Time to acknowledge" not in said
