"""The `hindsight` command, end to end on both databases, through Typer's runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from hindsight.cli.main import app
from hindsight.services.demo import demo_document

DEMO_KEY = "2018-01-18-reddit-hugs-mybinder"


class Cli:
    """Runs `hindsight --database-url URL …` and hands back the result."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.runner = CliRunner()

    def __call__(
        self, *args: str, ok: bool = True, stdin: str | None = None, columns: int = 200
    ) -> Result:
        result = self.runner.invoke(
            app,
            ["--database-url", self.url, "--author", "cli-test", *args],
            input=stdin,
            env={"COLUMNS": str(columns)},
        )
        if ok:
            assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
        return result


@pytest.fixture
def cli(empty_database_url: str) -> Cli:
    return Cli(empty_database_url)


def _new(cli: Cli) -> str:
    result = cli(
        "new",
        "--title",
        "Checkout errors",
        "--severity",
        "SEV2",
        "--service",
        "checkout",
        "--date",
        "2024-03-05",
    )
    return result.stdout.strip()


def test_a_postmortem_can_be_filled_from_a_script(cli: Cli, tmp_path: Path) -> None:
    key = _new(cli)
    assert key == "2024-03-05-checkout-errors"
    summary = tmp_path / "summary.md"
    summary.write_text("Checkout failed for **42 minutes**.\n", encoding="utf-8")
    cli(
        "set",
        key,
        f"summary=@{summary}",
        "impact.users_affected=1200",
        "impact.narrative=Orders could not be placed.",
        "analysis.trigger=A bad config push",
        "response.detection_method=automated_alert",
        "status=resolved",
    )
    cli("add", key, "analysis.root_causes", "Config skips canary")
    cli("add", key, "lessons", "Config is code", "Canaries catch typos")
    cli("add", key, "response.went_well", "Fast rollback")
    cli("participant", "add", key, "Ana", "--role", "incident_commander", "--team", "payments")
    cli("factor", "add", key, "--category", "change", "--text", "No config lint")
    cli("why", "add", key, "--why", "Why 500s?", "--because", "Endpoint typo")
    for at, text, moment in [
        ("2024-03-05T10:00", "Config pushed", "impact_started"),
        ("2024-03-05T10:04", "Alert fired", "detected"),
        ("2024-03-05T10:09", "Ana acknowledged", "acknowledged"),
        ("2024-03-05T10:30", "Rolled back", "mitigated"),
        ("2024-03-05T10:42", "Error rate normal", "resolved"),
    ]:
        cli(
            "event",
            "add",
            key,
            "--at",
            at,
            "--zone",
            "Europe/Berlin",
            "--text",
            text,
            "--key-moment",
            moment,
        )
    cli(
        "action",
        "add",
        key,
        "--title",
        "Lint config in CI",
        "--kind",
        "prevent",
        "--owner",
        "Ana",
        "--due",
        "2024-04-01",
    )
    cli("set", key, "action_items.0.status=done")

    shown = cli("show", key).stdout
    for part in (
        "1. Overview",
        "Timeline",
        "2. Root cause analysis",
        "3. Impact",
        "4. Response",
        "5. Lessons learned",
        "6. Action items",
    ):
        assert part in shown
    assert "Time to resolve      42m" in shown
    assert "2024-03-05 10:00:00 CET" in shown and "09:00:00" in shown
    assert "users affected  1200" in shown

    exported = json.loads(cli("export", key, "--format", "json").stdout)
    assert exported["timeline"][0]["at"] == "2024-03-05T09:00:00Z"
    assert exported["timeline"][0]["zone"] == "Europe/Berlin"
    assert exported["action_items"][0]["status"] == "done"
    history = json.loads(cli("history", key, "--json").stdout)
    item_id = exported["action_items"][0]["id"]
    assert history[-1]["changes"] == [
        {
            "field": f"action_items.{item_id}.status",
            "old": "open",
            "new": "done",
            "label": "Lint config in CI",
        }
    ]
    assert {entry["author"] for entry in history} == {"cli-test"}


def test_export_and_import_round_trip_through_a_file(cli: Cli, tmp_path: Path) -> None:
    cli("demo")
    target = tmp_path / "demo.md"
    cli("export", "2018-01-18-reddit-hugs-mybinder", "-o", str(target))
    text = target.read_text(encoding="utf-8")
    target.write_text(text.replace("severity: SEV2", "severity: SEV1"), encoding="utf-8")
    imported = cli("import", str(target)).stdout
    assert "updated" in imported
    again = cli("export", "2018-01-18-reddit-hugs-mybinder").stdout
    assert again == text.replace("severity: SEV2", "severity: SEV1")


def test_list_filters_and_prints_json(cli: Cli) -> None:
    _new(cli)
    cli("new", "--title", "DNS outage", "--severity", "SEV1", "--date", "2024-03-06")
    listed = json.loads(cli("list", "--severity", "SEV1", "--json").stdout)
    assert listed["total"] == 1 and listed["items"][0]["title"] == "DNS outage"
    assert "No incidents match" in cli("list", "--service", "none").stdout


def test_bad_input_exits_non_zero_with_a_reason_and_changes_nothing(
    cli: Cli, tmp_path: Path
) -> None:
    key = _new(cli)
    refused, usage = 1, 2
    cases = [
        (["set", key, "severity=SEV9"], refused, "severity: Input should be"),
        (["set", key, "impact.users=3"], refused, "unknown field 'users'"),
        (["set", key, "severity"], usage, "write FIELD=VALUE"),
        (["set", key, f"summary=@{tmp_path / 'none.md'}"], usage, "cannot read"),
        (
            ["action", "add", key, "--title", "Fix", "--status", "wont_do"],
            refused,
            "needs a reason",
        ),
        (["event", "add", key, "--at", "noon", "--text", "x"], usage, "--at: 'noon'"),
        (["event", "add", key, "--at", "2024-03-05T10:00", "--text", "x"], refused, "no time zone"),
        (["show", "missing"], refused, "no incident with key 'missing'"),
        (["set", key, "title=Changed", "--if-version", "7"], refused, "changed by someone else"),
        (["new", "--title", "x", "--severity", "SEV3", "--date", "yesterday"], usage, "--date"),
        (["list", "--limit", "0"], usage, "Invalid value for '--limit'"),
        (["list", "--bogus"], usage, "No such option: --bogus (see `"),
        (["lsit"], usage, "No such command 'lsit'"),
        (["show"], usage, "Missing argument"),
    ]
    for args, code, reason in cases:
        result = cli(*args, ok=False)
        assert result.exit_code == code, (args, result.stderr)
        stderr = result.stderr
        assert stderr.startswith("error: ") and reason in stderr, (args, stderr)
        assert stderr.count("\n") == 1, (args, stderr)
    history = json.loads(cli("history", key, "--json").stdout)
    assert len(history) == 1


def test_importing_a_bad_file_reports_file_line_and_field(cli: Cli, tmp_path: Path) -> None:
    cli("demo")
    bad = tmp_path / "bad.md"
    cli("export", "2018-01-18-reddit-hugs-mybinder", "-o", str(bad))
    bad.write_text(
        bad.read_text(encoding="utf-8").replace("status: resolved", "status: fine"),
        encoding="utf-8",
    )
    result = cli("import", str(bad), ok=False)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {bad}:6: status: ")


def test_info_names_the_database_and_its_schema(cli: Cli) -> None:
    info = json.loads(cli("info", "--json").stdout)
    assert info["schema_revision"] == info["schema_head"] is not None
    assert info["incidents"] == 0
    assert "demo not loaded" not in cli("demo", "--if-empty").stdout
    assert "demo not loaded" in cli("demo", "--if-empty").stdout


def test_the_taxonomy_can_be_extended(cli: Cli) -> None:
    cli("taxonomy", "add", "feature-flags", "--description", "Flags flipped")
    assert "feature-flags" in cli("taxonomy", "list").stdout
    result = cli("taxonomy", "add", "feature-flags", ok=False)
    assert "already exists" in result.stderr


def test_an_unusable_database_url_is_a_one_line_error() -> None:
    result = Cli("postgresql://nobody@127.0.0.1:1/none")("list", ok=False)
    assert result.exit_code == 1
    stderr = result.stderr
    assert stderr.startswith("error: cannot open the database") and stderr.count("\n") == 1


GIT_HISTORY = (
    Path(__file__).parent.parent
    / "data"
    / "git"
    / ("mybinder.org-deploy.first-parent.2018-01.jsonl")
)


def test_import_evidence_prints_a_summary_then_accepts_and_refuses_bad_options(cli: Cli) -> None:
    cli("demo")
    key = "2018-01-18-reddit-hugs-mybinder"
    window = [
        "--since",
        "2018-01-18T00:00",
        "--until",
        "2018-01-19T00:00",
        "--tz",
        "America/Los_Angeles",
    ]
    done = cli("import-evidence", key, "git", str(GIT_HISTORY), *window)
    assert "added 1 suggested event" in done.stdout
    assert "skipped 19: outside the time window" in done.stdout
    assert "Merged 9a3ac0252" in done.stdout
    again = cli("import-evidence", key, "git", str(GIT_HISTORY), *window)
    assert "added 0 suggested events" in again.stdout and "already imported" in again.stdout
    listed = cli("evidence", key)
    assert "9a3ac0252" in listed.stdout and "git" in listed.stdout
    assert "accepted 1 event" in cli("accept-evidence", key, "--all").stdout
    assert "No suggested events" in cli("evidence", key).stdout

    bad_time = cli(
        "import-evidence", key, "git", str(GIT_HISTORY), "--since", "yesterday", ok=False
    )
    assert bad_time.exit_code != 0 and "--since" in bad_time.stderr
    bad_kind = cli("import-evidence", key, "splunk", str(GIT_HISTORY), ok=False)
    assert "known kinds: alertmanager, generic, git, github, logs, opsgenie, pagerduty, slack" in (
        bad_kind.stderr.replace("\n", " ")
    )
    missing = cli("import-evidence", key, "logs", "/no/such/file.log", ok=False)
    assert "/no/such/file.log: no such file or folder" in missing.stderr


def test_export_writes_html_and_pdf_reports_and_names_a_wrong_template(
    cli: Cli, tmp_path: Path
) -> None:
    cli("demo")
    key = "2018-01-18-reddit-hugs-mybinder"
    html = tmp_path / "report.html"
    cli("export", key, "--format", "html", "--template", "classic", "-o", str(html))
    assert "Corrective and preventative measures" in html.read_text()
    pdf = tmp_path / "report.pdf"
    cli("export", key, "--format", "pdf", "-o", str(pdf))
    assert pdf.read_bytes().startswith(b"%PDF")
    wrong = cli("export", key, "--format", "html", "--template", "nope", ok=False)
    assert "no template named 'nope'" in wrong.stderr
    no_output = cli("export", key, "--format", "pdf", ok=False)
    assert "a PDF needs --output FILE" in no_output.stderr
    assert "google-sre  (team default)" in cli("templates").stdout


def test_user_role_changes_a_role_and_never_demotes_the_last_admin(cli: Cli) -> None:
    """Issue 9, finding 9: `hindsight user role NAME ROLE` instead of SQL."""
    cli("user", "create", "root", "--role", "admin", "--password", "root password 1")
    cli("user", "create", "ana", "--password", "ana password 12")
    assert "ana is now viewer" in cli("user", "role", "ana", "viewer").stdout
    refused = cli("user", "role", "root", "editor", ok=False)
    assert refused.exit_code != 0 and "last active admin" in refused.stderr
    weak = cli("user", "password", "ana", "--password", "aaaaaaaaaaaa", ok=False)
    assert weak.exit_code != 0 and "repeated" in weak.stderr
    listed = cli("user", "list").stdout
    assert "viewer" in listed and "admin" in listed


# -- issue 9, finding 10: the CLI's errors, layout and paging ---------------------------------


def test_import_evidence_with_an_unknown_zone_is_one_line_exit_2_not_a_traceback(
    tmp_path: Path,
) -> None:
    cli = Cli(f"sqlite:///{tmp_path / 'unused.db'}")
    result = cli("import-evidence", DEMO_KEY, "git", str(GIT_HISTORY), "--tz", "PST", ok=False)
    assert result.exit_code == 2, result.exception
    assert result.stderr == (
        "error: --tz: 'PST' is not a known time zone; use an IANA name such as "
        "'Europe/London', 'UTC', or an offset such as '-08:00'\n"
    )
    assert not (tmp_path / "unused.db").exists()


def test_an_unexpected_failure_is_one_line_internal_error_and_debug_shows_the_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*args: object) -> list[str]:
        raise RuntimeError("the disk is on fire")

    monkeypatch.setattr("hindsight.cli.documents.template_names", fail)
    cli = Cli(f"sqlite:///{tmp_path / 'unused.db'}")
    result = cli("templates", ok=False)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: internal error: RuntimeError: the disk is on fire")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output
    debugged = cli("--debug", "templates", ok=False)
    assert isinstance(debugged.exception, RuntimeError)


def _bad_copy(tmp_path: Path, name: str, **replacements: str) -> Path:
    text = demo_document().replace(f"key: {DEMO_KEY}", f"key: {name}")
    for old, new in replacements.items():
        text = text.replace(old, new)
    path = tmp_path / f"{name}.md"
    path.write_text(text, encoding="utf-8")
    return path


def test_errors_piped_at_80_columns_are_one_line_each_not_hard_wrapped(
    cli: Cli, tmp_path: Path
) -> None:
    long_name = "a-postmortem-with-a-name-long-enough-to-pass-eighty-columns-when-printed"
    bad = _bad_copy(
        tmp_path,
        long_name,
        **{
            "severity: SEV2": "severity: SEV9",
            "status: resolved": "status: fine",
            "visibility: internal": "visibility: everyone",
        },
    )
    result = cli("import", str(bad), ok=False, columns=80)
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert [line.split(": ")[2] for line in lines] == ["severity", "status", "visibility"]
    assert all(line.startswith(f"error: {bad}:") and len(line) > 80 for line in lines)


def test_importing_several_bad_files_reports_every_files_problems_and_writes_nothing(
    cli: Cli, tmp_path: Path
) -> None:
    good = _bad_copy(tmp_path, "good-one")
    first = _bad_copy(tmp_path, "first-bad", **{"severity: SEV2": "severity: SEV9"})
    second = _bad_copy(tmp_path, "second-bad", **{"status: resolved": "status: fine"})
    third = _bad_copy(tmp_path, "third-bad", **{"| capacity |": "| weather |"})
    result = cli("import", str(good), str(first), str(second), str(third), ok=False)
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    severity_line = demo_document().split("\n").index("severity: SEV2") + 1
    status_line = demo_document().split("\n").index("status: resolved") + 1
    assert lines[0] == f"error: {first}:{severity_line}: severity: " + lines[0].split(": ", 3)[3]
    assert lines[1].startswith(f"error: {second}:{status_line}: status: ")
    assert lines[2].startswith(f"error: {third}: analysis.contributing_factors[")
    assert "'weather' is not in the taxonomy" in lines[2] and len(lines) == 3
    assert "No incidents match" in cli("list").stdout

    missing = tmp_path / "missing.md"
    unreadable = cli("import", str(first), str(missing), ok=False)
    assert unreadable.exit_code == 2
    assert unreadable.stderr.splitlines()[1] == f"error: {missing}: No such file or directory"
    assert "No incidents match" in cli("list").stdout


def _table_lines(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if line.strip()]


def test_list_at_80_columns_keeps_key_severity_title_and_status_and_all_at_200(cli: Cli) -> None:
    cli("demo")
    cli(
        "new",
        "--title",
        "Checkout errors after the payment provider rotated its TLS certificate without notice",
        "--severity",
        "SEV1",
        "--key",
        "2024-03-05-checkout-tls",
        "--service",
        "checkout",
    )
    narrow = _table_lines(cli("list", columns=80).stdout)
    assert narrow[0].split() == ["Key", "Title", "Severity", "Status"]
    assert len(narrow) == 4 and all(len(line) <= 80 for line in narrow)
    assert "2024-03-05-checkout-tls" in narrow[1] and "Checkout errors aft…" in narrow[1]
    assert f"{DEMO_KEY}  reddit hugs mybinder" in narrow[2]

    wide = _table_lines(cli("list", columns=200).stdout)
    assert wide[0].split() == ["Key", "Title", "Severity", "Status", "Review", "Services"]
    assert len(wide) == 4 and all(len(line) <= 200 for line in wide)
    assert "rotated its TLS certificate without notice" in wide[1]
    assert "mybinder.org, binderhub, jupyterhub, ingress" in wide[2]


def test_a_page_past_the_last_one_says_so_and_exits_2(cli: Cli) -> None:
    cli("demo")
    for args in (["list", "--page", "99"], ["list", "--page", "99", "--json"]):
        result = cli(*args, ok=False)
        assert result.exit_code == 2
        assert result.stderr.startswith("error: page 99 is past the last page (1);")
        assert result.stdout == ""
    assert "1-1 of 1" in cli("list", "--page", "1").stdout


def test_import_evidence_of_a_damaged_zip_and_an_impossible_id_give_one_line_errors(
    cli: Cli, tmp_path: Path
) -> None:
    import zipfile

    key = _new(cli)
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("channels.json", '[{"id": "C1", "name": "ops"}]')
        out.writestr("users.json", "[]")
        out.writestr("ops/2024-03-05.json", b'[{"type": "message", "text": "hi"}]' * 20)
    data = bytearray(archive.read_bytes())
    at = data.index(b"ops/2024-03-05.json") + 30
    data[at : at + 4] = b"\x00\xff\x00\xff"
    archive.write_bytes(bytes(data))
    damaged = cli("import-evidence", key, "slack", str(archive), "--any-time", ok=False)
    assert damaged.exit_code == 1 and "Traceback" not in damaged.stderr
    assert "ops/2024-03-05.json: the archive is damaged" in damaged.stderr
    assert len(damaged.stderr.strip().splitlines()) == 1
    huge = cli("accept-evidence", key, str(10**23), ok=False)
    assert huge.exit_code == 1 and f"no suggested event with id {10**23}" in huge.stderr


def test_import_evidence_defaults_to_the_incident_window_and_says_which_window_it_used(
    cli: Cli,
) -> None:
    cli("demo")
    key = "2018-01-18-reddit-hugs-mybinder"
    done = cli("import-evidence", key, "git", str(GIT_HISTORY), "--preview")
    assert (
        "window: 2018-01-18 13:15:00 to 2018-01-18 18:14:00 UTC (the incident's key moments, "
        "an hour either side; --since/--until or --any-time to change)"
    ) in done.stdout
    assert "would add 1 suggested event" in done.stdout
    assert (
        "warning: 18 events lie more than a day outside the time window "
        "(2018-01-02 to 2018-01-30 UTC)"
    ) in done.stdout
    everything = cli("import-evidence", key, "git", str(GIT_HISTORY), "--preview", "--any-time")
    assert "window: every time in the file" in everything.stdout
    assert "would add 20 suggested events" in everything.stdout
    given = cli(
        "import-evidence", key, "git", str(GIT_HISTORY), "--preview", "--since", "2018-01-01"
    )
    assert "window: 2018-01-01 00:00:00 to … UTC (--since/--until)" in given.stdout
