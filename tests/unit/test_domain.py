"""Validation of the domain values and the pure metrics."""

from __future__ import annotations

import datetime as dt

import pytest

from hindsight.analysis.diff import diff_postmortems
from hindsight.analysis.metrics import compute_response_metrics, format_duration
from hindsight.domain.codec import InvalidPostmortemError, postmortem_from_dict
from hindsight.domain.editing import FieldPathError, append_item, remove_item, set_field
from hindsight.domain.text import clean_prose
from tests.factories import T0, make_postmortem


def _problems(**overrides: object) -> dict[str, str]:
    data = {"key": "k", "title": "t", "severity": "SEV3", **overrides}
    with pytest.raises(InvalidPostmortemError) as caught:
        postmortem_from_dict(data)
    return {problem.field: problem.message for problem in caught.value.problems}


def test_response_metrics_are_computed_from_key_moments() -> None:
    metrics = compute_response_metrics(make_postmortem())
    assert metrics.time_to_detect == dt.timedelta(minutes=4)
    assert metrics.time_to_acknowledge == dt.timedelta(minutes=5)
    assert metrics.time_to_mitigate == dt.timedelta(minutes=30)
    assert metrics.time_to_resolve == dt.timedelta(minutes=42)
    assert metrics.impact_window == (T0, T0 + dt.timedelta(minutes=30))


def test_a_metric_is_unknown_when_a_moment_is_missing() -> None:
    timeline = [{"at": T0.isoformat(), "text": "alert", "key_moment": "detected"}]
    metrics = compute_response_metrics(make_postmortem(timeline=timeline))
    assert metrics.time_to_detect is None and metrics.impact_duration is None
    assert format_duration(metrics.time_to_detect) == "—"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(45, "45s"), (125, "2m 5s"), (3600 * 4 + 55 * 60, "4h 55m"), (86400 * 2 + 3600, "2d 1h 0m")],
)
def test_durations_read_like_people_write_them(seconds: int, text: str) -> None:
    assert format_duration(dt.timedelta(seconds=seconds)) == text


def test_times_are_held_in_utc_and_keep_their_zone() -> None:
    pm = make_postmortem(
        timeline=[
            {"at": "2018-01-18T04:19:00-08:00", "text": "noticed", "zone": "America/Los_Angeles"}
        ]
    )
    [event] = pm.timeline
    assert event.at == dt.datetime(2018, 1, 18, 12, 19, tzinfo=dt.UTC)
    assert event.local_time.isoformat() == "2018-01-18T04:19:00-08:00"


def test_the_timeline_is_kept_in_time_order() -> None:
    pm = make_postmortem(
        timeline=[
            {"at": "2024-01-01T10:00:00Z", "text": "later"},
            {"at": "2024-01-01T09:00:00Z", "text": "earlier"},
        ]
    )
    assert [e.text for e in pm.timeline] == ["earlier", "later"]


def test_invalid_values_are_refused_with_the_field_at_fault() -> None:
    assert "SEV1" in _problems(severity="SEV0")["severity"]
    assert "lowercase" in _problems(key="Not A Slug")["key"]
    problems = _problems(timeline=[{"at": "2024-01-01T09:00:00", "text": "x"}])
    assert "no time zone" in problems["timeline[0].at"]
    assert (
        "not a known time zone"
        in _problems(
            timeline=[{"at": "2024-01-01T09:00:00Z", "text": "x", "zone": "Mars/Olympus"}]
        )["timeline[0].zone"]
    )
    assert "zero or more" in _problems(impact={"users_affected": -1})["impact.users_affected"]
    assert "required" in _problems(impact={"cost": {"business_cost": 10}})["impact.cost.currency"]
    assert (
        "http"
        in _problems(action_items=[{"title": "a", "tracker_url": "ftp://x"}])[
            "action_items[0].tracker_url"
        ]
    )
    assert "not a known field" in _problems(colour="red")["colour"]


def test_each_key_moment_is_marked_once_and_in_order() -> None:
    twice = [
        {"at": "2024-01-01T09:00:00Z", "text": "a", "key_moment": "detected"},
        {"at": "2024-01-01T09:05:00Z", "text": "b", "key_moment": "detected"},
    ]
    assert "marked once" in " ".join(_problems(timeline=twice).values())
    backwards = [
        {"at": "2024-01-01T09:00:00Z", "text": "a", "key_moment": "resolved"},
        {"at": "2024-01-01T09:05:00Z", "text": "b", "key_moment": "impact_started"},
    ]
    assert "is before" in " ".join(_problems(timeline=backwards).values())


def test_prose_refuses_structural_headings_and_unclosed_fences() -> None:
    with pytest.raises(ValueError, match="level 2 heading"):
        clean_prose("intro\n## Impact\n", "summary")
    with pytest.raises(ValueError, match="never closed"):
        clean_prose("```\ncode", "summary")
    assert clean_prose("#### Detail\n\n```\n## not a heading\n```", "summary")


def test_fields_can_be_set_added_and_removed_by_path() -> None:
    pm = set_field(make_postmortem(), "impact.users_affected", "1500")
    assert pm.impact.users_affected == 1500
    pm = set_field(pm, "title", "123")
    assert pm.title == "123"
    pm = set_field(pm, "response.detection_method", "customer_report")
    assert pm.response.detection_method == "customer_report"
    pm = append_item(pm, "lessons", "Canary config too")
    assert pm.lessons[-1].text == "Canary config too"
    pm = remove_item(pm, "timeline.0")
    assert len(pm.timeline) == 4
    with pytest.raises(FieldPathError, match="unknown field 'users'"):
        set_field(pm, "impact.users", "1")
    with pytest.raises(FieldPathError, match="cannot be changed"):
        set_field(pm, "key", "other")
    with pytest.raises(InvalidPostmortemError, match="SEV"):
        set_field(pm, "severity", "SEV7")


def test_the_diff_names_each_changed_field_with_old_and_new_values() -> None:
    before = make_postmortem()
    after = set_field(set_field(before, "severity", "SEV1"), "timeline.2.text", "Ana acked")
    changes = {c.field: (c.old, c.new) for c in diff_postmortems(before, after)}
    event_id = before.timeline[2].id
    assert changes == {
        "severity": ("SEV2", "SEV1"),
        f"timeline.{event_id}.text": ("Ana acknowledged", "Ana acked"),
    }
