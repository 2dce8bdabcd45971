"""`hindsight export-action` on both databases, against the local tracker server."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from click.testing import Result
from typer.testing import CliRunner

from hindsight.cli.main import app
from hindsight.services.database import open_database
from hindsight.services.incidents import create_postmortem, get_postmortem
from tests.factories import make_postmortem
from tests.trackers_server import TrackerServer, tracker_server


@pytest.fixture(scope="module")
def server() -> Iterator[TrackerServer]:
    with tracker_server() as running:
        yield running


def test_export_action_creates_the_issue_stores_the_link_and_refuses_a_second_time(
    empty_database_url: str, server: TrackerServer
) -> None:
    database = open_database(empty_database_url)
    with database.transaction() as session:
        stored = create_postmortem(session, postmortem=make_postmortem(key="inc"), author="t")
    item_id = stored.postmortem.action_items[0].id
    env = {
        "HINDSIGHT_GITHUB_API_URL": server.url,
        "HINDSIGHT_TRACKERS": json.dumps({"*": {"github_repository": "acme/ops"}}),
    }

    def run(*args: str) -> Result:
        base = ["--database-url", empty_database_url, "--author", "cli-test"]
        return CliRunner().invoke(app, [*base, *args], env=env)

    made = run("export-action", "inc", item_id, "--tracker", "github", "--json")
    assert made.exit_code == 0, made.stderr
    url = json.loads(made.stdout)["tracker_url"]
    assert url.startswith("https://github.com/acme/ops/issues/")
    assert server.received[-1].errors == []
    again = run("export-action", "inc", item_id, "--tracker", "github")
    assert again.exit_code != 0 and "already has a tracker issue" in again.stderr
    wrong = run("export-action", "inc", item_id, "--tracker", "gitlab")
    assert wrong.exit_code != 0 and "tracker: 'gitlab' is not one of github, jira" in wrong.stderr
    with database.reading() as session:
        assert get_postmortem(session, key="inc").postmortem.action_items[0].tracker_url == url
    database.dispose()
