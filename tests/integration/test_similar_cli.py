"""`hindsight similar`, `recurrence`, `similar-reindex` and `list --recurring`, end to end on
both databases."""

from __future__ import annotations

import json

from tests.integration.test_cli import Cli, cli  # noqa: F401 - the fixture


def _new(cli: Cli, title: str, date: str, service: str) -> str:  # noqa: F811
    args = ["new", "--title", title, "--severity", "SEV2", "--service", service, "--date", date]
    args += ["--summary", f"{title}: the TLS certificate of the {service} expired."]
    return cli(*args).stdout.strip()


def test_similar_recurrence_and_the_recurring_filter_from_the_command_line(
    cli: Cli,  # noqa: F811
) -> None:
    first = _new(cli, "Certificate expired on ingress", "2024-01-01", "ingress")
    _new(cli, "Database disk full", "2024-01-02", "db")
    second = _new(cli, "Certificate expired again on ingress", "2024-02-01", "ingress")
    found = json.loads(cli("similar", second, "--json").stdout)
    assert found["mode"] == "hybrid" and found["items"][0]["key"] == first
    assert found["items"][0]["why"]["services"] == ["ingress"]
    text = cli("similar", second).stdout
    assert "Certificate expired on ingress" in text and "shares services ingress" in text
    assert f"Linked: {second} and {first}" in cli("recurrence", second, first).stdout
    listed = json.loads(cli("list", "--recurring", "--json").stdout)
    assert sorted(item["key"] for item in listed["items"]) == sorted([first, second])
    assert f"Linked: recurred as {second}" in cli("similar", first).stdout
    assert "Refreshed 0 of 3 incident profiles" in cli("similar-reindex").stdout
    wrong = cli("recurrence", second, "no-such-incident", ok=False)
    assert wrong.exit_code == 1 and "no incident with key 'no-such-incident'" in wrong.stderr
    itself = cli("recurrence", first, first, ok=False)
    assert "cannot recur itself" in itself.stderr
