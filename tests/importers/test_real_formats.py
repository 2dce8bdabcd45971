"""Real exports that were refused or misread before issue 13 (item 6): each test failed on
the code before the fix. The files are copies of real exports (tests/data/SOURCES.md)."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import pytest

from hindsight.domain.evidence import Signal
from hindsight.domain.timeline import EventKind
from hindsight.importers.base import EvidenceError, ImportOptions, NoProgress, Source
from hindsight.importers.registry import read_all

DATA = Path(__file__).parent.parent / "data"
GITHUB = DATA / "github"


def _read(kind: str, path: Path, **options: object) -> tuple[list, ImportOptions]:  # type: ignore[type-arg]
    chosen = ImportOptions(**options)  # type: ignore[arg-type]
    return read_all(kind, Source.open(path), chosen, NoProgress()), chosen


@pytest.mark.parametrize(
    ("name", "text"),
    [
        (
            "workflow_job__completed.failure.with-organization.payload.json",
            "Workflow job 'CodeQL / linters' on main: failure",
        ),
        ("check_run__completed.1.payload.json", "Check run 'Octocoders-linter' completed: failure"),
        ("check_suite__completed.payload.json", "Check suite 'octocoders-linter' completed"),
        ("pull_request__closed.payload.json", "Pull request #2 closed without merging"),
    ],
)
def test_github_ci_and_pull_request_payloads_are_read(name: str, text: str) -> None:
    found, _ = _read("github", GITHUB / name)
    assert len(found) == 1
    assert text in found[0].event.text
    assert found[0].signal is Signal.NOTE


def test_a_workflow_job_waiting_for_a_deployment_names_the_environment() -> None:
    found, _ = _read("github", GITHUB / "workflow_job__queued.with-deployment.payload.json")
    assert [e.event.kind for e in found] == [EventKind.DEPLOY]
    assert "waiting (deployment to Test)" in found[0].event.text
    assert found[0].key.startswith("workflow_job/")


def test_a_deployment_review_says_which_environment_and_who_reviews() -> None:
    found, _ = _read("github", GITHUB / "deployment_review__requested.payload.json")
    (review,) = found
    assert "Deployment review requested for TST" in review.event.text
    assert "reviewers: admins" in review.event.text
    # The time the review was requested ('since'), not when the run started.
    assert review.event.at.isoformat() == "2023-07-04T09:28:15+00:00"


def test_a_merged_pull_request_is_a_change_at_its_merge_time(tmp_path: Path) -> None:
    # The real 'closed' payload with the fields GitHub sets when the pull request was merged.
    payload = json.loads((GITHUB / "pull_request__closed.payload.json").read_text())
    payload["pull_request"].update(
        merged=True, merged_at="2019-05-15T15:21:18Z", merged_by=payload["sender"]
    )
    merged = tmp_path / "merged.json"
    merged.write_text(json.dumps(payload))
    (event,) = _read("github", merged)[0]
    assert event.signal is Signal.CHANGE and event.event.kind is EventKind.CHANGE
    assert "Merged #2 into master: Update the README" in event.event.text
    assert event.event.actor == "Codertocat"


def test_a_folder_mixing_known_and_unknown_events_imports_the_known_and_names_the_rest(
    tmp_path: Path,
) -> None:
    for name in ("push__with-new-branch.payload.json", "check_run__completed.1.payload.json"):
        shutil.copy(GITHUB / name, tmp_path / name)
    # A real payload of another tool stands for an event type the importer does not read.
    shutil.copy(DATA / "pagerduty" / "events-v2_01_trigger.json", tmp_path / "other.json")
    found, options = _read("github", tmp_path)
    assert {e.event.text.split(": ")[1].split(" ")[0] for e in found} == {"Check", "Pushed"}
    (reason,) = options.skipped
    assert reason.startswith(f"{tmp_path / 'other.json'}: ")
    assert reason.endswith(", not read")


def test_a_single_unknown_github_payload_is_still_refused_with_what_is_known(
    tmp_path: Path,
) -> None:
    other = tmp_path / "other.json"
    shutil.copy(DATA / "pagerduty" / "events-v2_01_trigger.json", other)
    with pytest.raises(EvidenceError, match=r"other.json.*expected a check_run, check_suite"):
        _read("github", other)


ALERTS = DATA / "alertmanager"


def test_concatenated_alertmanager_payloads_are_each_read(tmp_path: Path) -> None:
    # `cat a.json b.json > all.json` of two real pretty-printed payloads.
    first, second = ALERTS / "prom_post_request_2_alerts.json", ALERTS / "all_ok.json"
    joined = tmp_path / "all.json"
    joined.write_text(first.read_text() + "\n" + second.read_text())
    found, _ = _read("alertmanager", joined)
    alone = [_read("alertmanager", path)[0] for path in (first, second)]
    assert [e.key for e in found] == [e.key for part in alone for e in part]
    second_line = len(first.read_text().splitlines()) + 1 + first.read_text().endswith("\n")
    where = str(found[-1].event.provenance[0]).split("#")[1]
    assert where.startswith(f"document 2 (line {second_line})")


def test_a_bad_document_among_concatenated_payloads_is_named_by_line(tmp_path: Path) -> None:
    joined = tmp_path / "all.json"
    text = (ALERTS / "all_ok.json").read_text()
    joined.write_text(text + "\n" + text[: len(text) // 2])
    with pytest.raises(EvidenceError, match=r"all.json:\d+: not valid JSON"):
        _read("alertmanager", joined)


@pytest.mark.parametrize("zero", ["0001-01-01T00:00:00Z", "1970-01-01T00:00:00Z"])
def test_an_alert_starting_at_a_zero_time_gives_no_firing_event_and_says_so(
    tmp_path: Path, zero: str
) -> None:
    # What a test notification sends: a real payload with startsAt at the zero time.
    payload = json.loads((ALERTS / "prom_post_request_2_alerts.json").read_text())
    payload["alerts"][0]["startsAt"] = zero
    changed = tmp_path / "test-notification.json"
    changed.write_text(json.dumps(payload))
    found, options = _read("alertmanager", changed)
    assert [e.subject for e in found] == ["high_memory_load2"]
    assert options.skipped == {
        f"alerts whose startsAt is a zero time ({zero[:10]}), so no firing event": 1
    }


def _opsgenie_webhook(tmp_path: Path, action: str) -> Path:
    # The real Opsgenie webhook (action "Create") with the action a later delivery carries.
    payload = json.loads((DATA / "opsgenie" / "relay-opsgenie-webhook_01.json").read_text())
    payload["action"] = action
    path = tmp_path / f"{action}.json"
    path.write_text(json.dumps(payload))
    return path


@pytest.mark.parametrize(
    ("action", "text", "kind"),
    [
        ("Escalate", "Escalated: asdf", EventKind.ESCALATION),
        ("EscalateNext", "Escalated to the next level: asdf", EventKind.ESCALATION),
        ("UnAcknowledge", "Acknowledgement withdrawn: asdf", EventKind.NOTE),
        ("TakeOwnership", "Ownership taken: asdf", EventKind.NOTE),
    ],
)
def test_opsgenie_webhook_actions_are_imported_in_words(
    tmp_path: Path, action: str, text: str, kind: EventKind
) -> None:
    (event,) = _read("opsgenie", _opsgenie_webhook(tmp_path, action))[0]
    assert (event.event.text, event.event.kind) == (text, kind)


@pytest.mark.parametrize("action", ["AddTags", "SomethingNew"])
def test_other_opsgenie_actions_are_named_as_skipped(tmp_path: Path, action: str) -> None:
    with pytest.raises(
        EvidenceError, match=rf"skipped: 1 Opsgenie webhooks with action '{action}'"
    ):
        _read("opsgenie", _opsgenie_webhook(tmp_path, action))


LOGS = DATA / "logs"


def test_a_postgresql_prefix_honours_the_zone_written_in_the_line() -> None:
    # '2026-12-02 02:03:15.976 UTC [2200] LOG: …' imported by someone whose --tz is Los Angeles.
    found, _ = _read("logs", LOGS / "postgresql-15-main.log", zone="America/Los_Angeles")
    first = min(found, key=lambda e: e.event.at)
    assert first.event.at.isoformat() == "2026-12-02T02:03:15+00:00"
    assert "starting PostgreSQL" in first.event.text


def test_a_line_without_a_zone_still_reads_in_the_zone_given() -> None:
    found, _ = _read("logs", LOGS / "dpkg.log", zone="America/Los_Angeles")
    assert min(e.event.at for e in found).isoformat() == "2025-06-24T21:36:25+00:00"


@pytest.mark.parametrize(
    ("name", "first", "text"),
    [
        ("redis-server.log", "2026-12-02T02:03:18.249000+00:00", "Redis is starting"),
        ("nats-server.log", "2026-12-02T02:03:29.855000+00:00", "Starting nats-server"),
        ("apt-history.log", None, "Commandline: apt-get"),
        ("jvm-gc.log", "2026-12-02T02:18:42+00:00", "Using G1"),
        ("journald-short-iso.log", "2026-12-02T02:21:24+00:00", "Journal started"),
        ("journald.json-lines.log", "2026-12-02T02:21:24.544000+00:00", "Journal started"),
        ("nezha-epoch-ms.jsonl", "2022-08-22T05:18:42.894000+00:00", "Query Recommendations"),
    ],
)
def test_real_server_logs_are_read_with_their_times(
    name: str, first: str | None, text: str
) -> None:
    found, _ = _read("logs", LOGS / name)
    earliest = min(found, key=lambda e: (e.event.at, e.event.text))
    if first is not None:
        assert earliest.event.at.isoformat() == first
    assert any(text in e.event.text for e in found)


def test_journald_json_reads_the_message_and_flags_the_error() -> None:
    found, _ = _read("logs", LOGS / "journald.json-lines.log")
    errors = [e for e in found if e.signal is Signal.ERRORS_STARTED]
    assert [e.event.text.split(" — ")[0] for e in errors] == [
        "New error log pattern: backup failed: connection refused by <*>"
    ]


def test_a_log_shorter_than_the_baseline_is_imported() -> None:
    # Eight lines of a real redis start: all within the 30-minute baseline.
    found, _ = _read("logs", LOGS / "redis-server.log")
    assert len(found) == 8


def test_a_timestamp_format_with_microseconds_reads_them_without_warnings() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        found, _ = _read("logs", LOGS / "nats-server.log", timestamp_format="%Y/%m/%d %H:%M:%S.%f")
    times = sorted(e.event.at for e in found)
    assert times[0].isoformat() == "2026-12-02T02:03:29.855000+00:00"
    assert times[-1].isoformat() == "2026-12-02T02:03:29.859000+00:00"


def test_a_time_outside_1970_2199_in_json_lines_is_refused_with_its_line(tmp_path: Path) -> None:
    lines = (LOGS / "nezha-epoch-ms.jsonl").read_text().splitlines()
    broken = json.loads(lines[4])
    broken["time"] = 0
    lines[4] = json.dumps(broken)
    path = tmp_path / "app.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(EvidenceError, match=r"app.jsonl:5: the time '0' is outside 1970-2199"):
        _read("logs", path)


def test_per_request_noise_of_an_access_log_does_not_become_most_events() -> None:
    # Sixteen real requests, fourteen user agents and nine referrers: one shape of line.
    found, _ = _read("logs", LOGS / "apache-access.log")
    assert len(found) == 1
    assert found[0].event.text.startswith('New log pattern: "GET <*> HTTP/<*>" <*> <*> <*> <*>')


def test_a_four_line_log_is_imported_line_by_line(tmp_path: Path) -> None:
    four = tmp_path / "four.log"
    four.write_text("".join((LOGS / "postgresql-15-main.log").read_text().splitlines(True)[:4]))
    found, _ = _read("logs", four)
    assert len(found) == 4
    assert {e.event.provenance[0].locator for e in found} == {f"line {n}" for n in (1, 2, 3, 4)}
