"""Mapped parts checked against real reports, one sample or more per layout. The reader was
written looking at the reports marked 'seen'; those marked 'held out' were only opened to
write these expectations (from the report text, not from the reader's output)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from hindsight.analysis.archive import read_report
from hindsight.domain.actions import ActionKind, ActionStatus
from hindsight.domain.incidents import Postmortem
from hindsight.domain.timeline import KeyMoment

ARCHIVE = Path(__file__).parents[2] / "data" / "archive"
UTC = dt.UTC


def _read(relative: str, zone: str | None = None) -> tuple[object, Postmortem]:
    path = ARCHIVE / relative
    report = read_report(path.read_bytes(), relative, zone=zone)
    return report, report.to_postmortem()


def _moments(postmortem: Postmortem) -> dict[str, dt.datetime]:
    return {moment.value: event.at for moment, event in postmortem.key_moments().items()}


def test_mybinder_headed_rows_in_pst_seen() -> None:
    _, pm = _read("mybinder-incident-reports/2018-01-18-reddit-hug.md")
    assert pm.title == "2018-01-18, reddit hugs mybinder"
    assert len(pm.timeline) == 25
    first = pm.timeline[0]
    assert (first.at, first.zone) == (
        dt.datetime(2018, 1, 18, 12, 19, tzinfo=UTC),
        "America/Los_Angeles",
    )
    assert first.text.startswith("First noticed something was up")
    assert first.key_moment is KeyMoment.DETECTED
    assert pm.timeline[-1].at == dt.datetime(2018, 1, 18, 17, 14, tzinfo=UTC)  # '### 9:14'
    assert pm.summary.startswith("A repo is posted to [reddit /r/python]")
    titles = [(a.title, a.kind) for a in pm.action_items]
    assert titles[0] == (
        "Gather commands used in incident response and add to SRE guide.",
        ActionKind.PROCESS,
    )
    assert titles[-1][1] is ActionKind.DETECT  # under '### Testing'
    assert all(a.status is ActionStatus.OPEN for a in pm.action_items)


def test_mybinder_written_dates_and_dateless_rows_in_cest_held_out() -> None:
    _, pm = _read("mybinder-incident-reports/2017-09-29-504.md")
    assert pm.title == "2017-09-29, 504"
    first, second = pm.timeline[:2]
    assert first.at == dt.datetime(2017, 9, 29, 6, 59, tzinfo=UTC)  # Sep 29 2017 08:59 CEST
    assert first.local_time.tzname() == "CEST"
    assert second.at == dt.datetime(2017, 9, 29, 12, 0, tzinfo=UTC)  # '### 14:00' takes the date
    assert second.text.startswith("while investigating the above issue")
    assert "binder-testing-xyz's server failed to start in 300 seconds" in second.text


def test_moj_key_events_become_key_moments_in_the_zone_given_seen() -> None:
    report, pm = _read(
        "moj-cloud-platform-incidents/2022-11-15-prometheus-ekslive-down.md", "Europe/London"
    )
    assert pm.title == "Incident on 2022-11-15 - Prometheus eks-live DOWN"
    at = dt.datetime(2022, 11, 15, tzinfo=UTC)
    assert _moments(pm) == {
        "detected": at.replace(hour=16, minute=3),
        "acknowledged": at.replace(hour=16, minute=5),
        "mitigated": at.replace(hour=16, minute=30),
        "resolved": at.replace(hour=16, minute=30),
    }
    assert {e.zone for e in pm.timeline} == {"Europe/London"}
    assert "Prometheus was unavailable for 27 minutes" in pm.impact.narrative
    assert "**Time to repair**: 27m" in pm.response.detection_notes
    assert "weight: 12" in pm.summary  # unknown front matter kept as a note
    assert len(pm.action_items) == 5
    last = pm.action_items[-1]
    assert last.tracker_url.endswith("/issues/ministryofjustice/cloud-platform/4264")
    assert last.title.startswith("AWS advise received - ticket raised")
    assert not [f for f in report.flags if f.code in ("duration", "moment-order")]  # consistent


def test_moj_summer_times_are_read_in_bst_and_out_of_order_facts_are_flagged_held_out() -> None:
    report, pm = _read(
        "moj-cloud-platform-incidents/2020-08-07-master-node-provisioning-failure.md",
        "Europe/London",
    )
    moments = _moments(pm)
    assert moments["detected"] == dt.datetime(2020, 8, 7, 14, 51, tzinfo=UTC)  # 15:51 BST
    assert moments["mitigated"] == dt.datetime(2020, 8, 7, 15, 29, tzinfo=UTC)  # repaired
    assert moments["acknowledged"] == dt.datetime(2020, 8, 7, 15, 39, tzinfo=UTC)  # declared
    assert moments["resolved"] == dt.datetime(2020, 8, 14, 9, 6, tzinfo=UTC)
    flags = {(f.line, f.code) for f in report.flags}
    assert (10, "moment-order") in flags  # repaired (line 10) before declared (line 11)
    assert (16, "duration") in flags  # 'Time to resolve: 33h 15m' against 6 days 18 h
    assert (14, "duration") not in flags  # 'Time to repair: 0h 38m' agrees
    assert pm.moment_order_note  # kept as written, so the postmortem says 'inconsistent'
    assert [(d[0].value, d[1].value) for d in pm.moment_disorder()] == [
        ("acknowledged", "mitigated")
    ]


def test_univaf_done_markers_bold_moments_and_responders_seen() -> None:
    _, pm = _read("univaf-incidents/2021-06-03--database-full.md")
    assert pm.title == "2021-06-03: Database Full"
    assert pm.timeline[0].at == dt.datetime(2021, 6, 3, 16, 0, tzinfo=UTC)  # 9:00 PDT
    assert _moments(pm) == {"mitigated": dt.datetime(2021, 6, 3, 16, 58, tzinfo=UTC)}
    statuses = [(a.title[:40], a.status) for a in pm.action_items]
    assert statuses[0] == ("Set up CloudWatch alarms for database re", ActionStatus.DONE)
    assert [s for _, s in statuses[1:]] == [ActionStatus.OPEN] * 3
    assert pm.response.went_well[0] == "Sentry alerted us to the failures before someone else did."
    assert len(pm.response.went_wrong) == 2
    assert [p.name for p in pm.participants] == ["Mr0grog", "astonm"]
    assert "[issue-169]: https://github.com/usdigitalresponse/univaf/issues/169" in pm.summary


def test_univaf_reference_links_in_the_timeline_held_out() -> None:
    _, pm = _read("univaf-incidents/2021-06-11--database-low.md")
    assert pm.timeline[0].at == dt.datetime(2021, 6, 12, 4, 1, tzinfo=UTC)  # 21:01 PDT
    assert pm.action_items[0].title.startswith("Decide whether to shrink the database disk")


def test_2i2c_checkboxes_and_pull_request_links_seen() -> None:
    _, pm = _read("2i2c-incident-reports/2025-08-12-leap-outage.md")
    done = [a for a in pm.action_items if a.status is ActionStatus.DONE]
    assert done[0].tracker_url == "https://github.com/2i2c-org/infrastructure/pull/6555"
    assert done[0].title.startswith("Update `deployer` system to add opt-in hardening")
    assert _moments(pm)["resolved"] == dt.datetime(2025, 8, 12, 17, 11, tzinfo=UTC)  # 18:11 BST


def test_2i2c_bare_issue_numbers_become_titles() -> None:
    _, pm = _read("2i2c-incident-reports/2023-02-01-daskhub-induced-evictions.md")
    assert [a.title for a in pm.action_items] == ["#2127", "#2213", "#2209", "#2324", "#2366"]


def test_2i2c_twelve_hour_clock_in_ist_and_a_title_date_that_is_not_the_file_name_held_out() -> (
    None
):
    report, pm = _read("2i2c-incident-reports/2020-10-28-memory-overload.md")
    first = pm.timeline[0]
    assert first.zone == "Asia/Kolkata"
    assert first.local_time.replace(tzinfo=None) == dt.datetime(2020, 8, 28, 20, 52)  # 08:52 PM
    assert first.text.startswith("Incoming report that many students can not access the hub")
    assert "date-mismatch" in {f.code for f in report.flags}


def test_a_link_only_action_item_takes_the_issue_number_as_its_title() -> None:
    text = (
        b"# Outage\n\n## Action items\n\n- https://github.com/acme/web/issues/42\n"
        b"- [Rotate the keys](https://tracker.example.com/browse/OPS-7) (Done)\n"
        b"- [ ] Add an alert on certificate expiry\n"
        b"| Action | Owner | Status |\n|---|---|---|\n| Write the runbook | Ana | done |\n"
    )
    pm = read_report(text, "t/x.md").to_postmortem()
    got = [(a.title, a.status.value, a.tracker_url, a.owner) for a in pm.action_items]
    assert got == [
        ("acme/web#42", "open", "https://github.com/acme/web/issues/42", ""),
        ("Rotate the keys (Done)", "done", "https://tracker.example.com/browse/OPS-7", ""),
        ("Add an alert on certificate expiry", "open", "", ""),
        ("Write the runbook", "done", "", "Ana"),
    ]
