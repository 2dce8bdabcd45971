"""`hindsight search`: ranked text, JSON, filters, and one-line errors for mistyped queries."""

from __future__ import annotations

import json

import pytest

from tests.integration.test_cli import Cli, cli  # noqa: F401 (the fixture)


def test_search_prints_ranked_hits_with_highlights_and_json_with_facets(cli: Cli) -> None:  # noqa: F811
    cli("demo")
    text = cli("search", "reddit OR node -nonexistentword").stdout
    assert "1. reddit hugs mybinder" in text
    assert "[reddit]" in text and "1-1 of 1" in text
    payload = json.loads(cli("search", '"popular reddit"', "--json").stdout)
    assert payload["total"] == 1
    assert payload["items"][0]["key"] == "2018-01-18-reddit-hugs-mybinder"
    assert {"value": "binderhub", "count": 1} in payload["facets"]["service"]
    narrowed = json.loads(cli("search", "reddit", "--severity", "SEV1", "--json").stdout)
    assert narrowed["total"] == 0 and narrowed["suggestions"][0].startswith("Remove the filters")
    none = cli("search", "reddit", "--service", "nowhere").stdout
    assert "No postmortem matches reddit." in none


def test_a_mistyped_query_is_one_line_on_stderr_and_exit_code_1(cli: Cli) -> None:  # noqa: F811
    result = cli("search", '"unclosed', ok=False)
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        'error: query: the quote at character 1 is never closed; add a closing " or remove it'
    )
    unknown = cli("search", "x", "--open-actions", "maybe", ok=False)
    assert unknown.stderr.strip() == "error: filter open_actions: 'maybe' is not yes or no"


def test_search_recurring_keeps_the_incidents_linked_as_a_recurrence(cli: Cli) -> None:  # noqa: F811
    keys = []
    for title, date in (("Heron cache melted", "2024-01-01"), ("Heron cache again", "2024-02-01")):
        args = ["new", "--title", title, "--severity", "SEV2", "--date", date]
        keys.append(cli(*args).stdout.strip())
    cli("new", "--title", "Heron printer jam", "--severity", "SEV3", "--date", "2024-03-01")
    cli("recurrence", keys[1], keys[0])
    everything = json.loads(cli("search", "heron", "--json").stdout)
    assert everything["total"] == 3
    assert everything["facets"]["recurring"] == [{"value": "yes", "count": 2}]
    only = json.loads(cli("search", "heron", "--recurring", "--json").stdout)
    assert sorted(item["key"] for item in only["items"]) == sorted(keys)


def test_search_says_more_than_the_bound_past_it(
    cli: Cli,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from hindsight.storage.search import results

    for n in (1, 2, 3):
        cli("new", "--title", f"Gannet dive {n}", "--severity", "SEV3", "--date", f"2024-0{n}-01")
    monkeypatch.setattr(results, "TOTAL_BOUND", 2)
    text = cli("search", "gannet", "--limit", "1").stdout
    assert "1-1 of more than 2, page 1 of 2" in text
    payload = json.loads(cli("search", "gannet", "--json").stdout)
    assert payload["total"] == 2 and payload["total_is_lower_bound"] is True
    assert len(payload["items"]) == 2
