"""`hindsight actions` and `hindsight insights` on both databases."""

from __future__ import annotations

import json

from hindsight.services.database import open_database
from hindsight.services.incidents import create_postmortem
from tests.factories import make_postmortem
from tests.integration.test_cli import Cli


def test_actions_lists_filters_and_prints_json_and_insights_count_the_incidents(
    empty_database_url: str,
) -> None:
    database = open_database(empty_database_url)
    items = [
        {"title": "Rotate keys", "owner": "ana", "due": "2020-01-01"},
        {"title": "Add alert", "owner": "bo", "kind": "detect"},
    ]
    with database.transaction() as session:
        create_postmortem(
            session, postmortem=make_postmortem(key="inc", action_items=items), author="t"
        )
    database.dispose()
    cli = Cli(empty_database_url)
    table = cli("actions", "--due", "overdue").stdout
    assert "Rotate keys" in table and "(overdue)" in table and "Add alert" not in table
    listed = json.loads(cli("actions", "--kind", "detect", "--json").stdout)
    assert listed["total"] == 1
    item = listed["items"][0]
    assert (item["title"], item["owner"], item["key"]) == ("Add alert", "bo", "inc")
    assert item["opened_at"] and item["closed_at"] is None and item["age_seconds"] >= 0
    bad = cli("actions", "--due", "soon", ok=False)
    assert bad.exit_code != 0 and "due: 'soon' is not one of overdue, week, none" in bad.stderr
    numbers = json.loads(cli("insights", "--json").stdout)
    assert numbers["incident_count"] == 1 and numbers["item_count"] == 2
    assert numbers["response_overall"]["time_to_detect"]["median"] == 4.0  # the factory's
    assert numbers["publication"]["serious"] == 1 and numbers["publication"]["published"] == 0
