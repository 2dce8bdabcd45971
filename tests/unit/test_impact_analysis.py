"""Impact computed from series, data loss and cost, each with its formula (no database)."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest

from hindsight.analysis.costs import compute_cost, compute_data_loss, cost_numbers
from hindsight.analysis.evidence import Candidate, propose_key_moments
from hindsight.analysis.impact import (
    Series,
    SeriesRole,
    WindowRule,
    anomaly_windows,
    compute_impact,
    condition_windows,
)
from hindsight.domain.codec import InvalidPostmortemError, postmortem_from_dict
from hindsight.domain.evidence import Signal
from hindsight.domain.impact import Slo, SloObjective
from hindsight.domain.timeline import EventKind, KeyMoment, TimelineEvent
from hindsight.rendering.markdown import render_markdown
from hindsight.rendering.markdown_reader import read_markdown
from tests.factories import T0, make_postmortem

DATA = Path(__file__).parents[1] / "data" / "metrics"
MINUTE = dt.timedelta(minutes=1)


def _nab() -> tuple[tuple[tuple[dt.datetime, float], ...], list[tuple[dt.datetime, dt.datetime]]]:
    with (DATA / "ec2_request_latency_system_failure.csv").open() as handle:
        points = tuple(
            (
                dt.datetime.fromisoformat(row["timestamp"]).replace(tzinfo=dt.UTC),
                float(row["value"]),
            )
            for row in csv.DictReader(handle)
        )
    windows = json.loads((DATA / "ec2_request_latency_system_failure.windows.json").read_text())
    labelled = [
        tuple(dt.datetime.fromisoformat(t[:19]).replace(tzinfo=dt.UTC) for t in pair)
        for pair in next(iter(windows.values()))
    ]
    return points, labelled  # type: ignore[return-value]


def _minutes(values: list[float], start: dt.datetime = T0) -> tuple[tuple[dt.datetime, float], ...]:
    return tuple((start + MINUTE * i, value) for i, value in enumerate(values))


def test_bad_samples_become_windows_joined_across_the_merge_gap_and_dropped_when_short() -> None:
    points = _minutes([1, 9, 9, 1, 9, 1, 1, 1, 1, 9, 1])
    rule = WindowRule(min_duration=2 * MINUTE, merge_gap=MINUTE)
    windows = condition_windows(points, lambda v: v > 5, rule, "above 5")
    # 1-2 and 4 are one minute apart: joined into 1..5; the lone sample at 9 is too short.
    assert [(w.start, w.end) for w in windows] == [(T0 + MINUTE, T0 + 5 * MINUTE)]


def test_the_change_detector_finds_each_labelled_window_of_the_real_nab_latency_series() -> None:
    points, labelled = _nab()
    found = anomaly_windows(points)
    assert 1 <= len(found) <= 3
    for start, end in labelled:
        assert any(w.start <= end and start <= w.end for w in found), (start, end)
    for window in found:
        assert any(window.start <= end and start <= window.end for start, end in labelled)


def test_a_latency_slo_gives_downtime_budget_and_burn_rate_with_their_formulas() -> None:
    values = [100.0] * 10 + [900.0] * 30 + [100.0] * 20
    series = Series("histogram_quantile(0.99, …)", SeriesRole.LATENCY, _minutes(values))
    slo = Slo(
        service="api", objective=SloObjective.LATENCY, window_days=30, latency_threshold_ms=300
    )
    estimate = compute_impact([series], slo, 99.9)
    assert [(w.start, w.end) for w in estimate.windows] == [(T0 + 10 * MINUTE, T0 + 40 * MINUTE)]
    downtime = estimate.number("downtime_minutes")
    budget = estimate.number("error_budget_burned_percent")
    burn = estimate.number("burn_rate")
    assert downtime is not None and downtime.value == 30
    # 30 bad minutes of a 0.1% budget of 30 days (43.2 minutes).
    assert budget is not None and budget.value == pytest.approx(30 / 43.2 * 100, abs=0.01)
    assert burn is not None and burn.value == pytest.approx(1000)
    assert (
        "09:10-09:40" in downtime.origin
        and "2024-03-05 09:10-09:40" in downtime.formula
        and "histogram_quantile" in downtime.origin
    )
    assert "43.2 minutes" in budget.formula


def test_an_availability_slo_counts_failed_requests_and_users_from_their_series() -> None:
    total = Series("sum(rate(http_requests_total[1m]))", SeriesRole.TOTAL, _minutes([10.0] * 60))
    errors = Series(
        'sum(rate(http_requests_total{code=~"5.."}[1m]))',
        SeriesRole.ERRORS,
        _minutes([0.0] * 20 + [5.0] * 10 + [0.0] * 30),
    )
    users = Series("affected_users", SeriesRole.USERS, _minutes([0] * 20 + [40, 70] * 5 + [0] * 30))
    slo = Slo(objective=SloObjective.AVAILABILITY, window_days=30)
    estimate = compute_impact([total, errors, users], slo, 99.9)
    failed = estimate.number("failed_requests")
    assert failed is not None and failed.value == 5 * 60 * 10  # 5 req/s for 10 minutes
    budget = estimate.number("error_budget_burned_percent")
    assert budget is not None
    assert budget.value == pytest.approx(3000 / (0.001 * 10 * 30 * 86400) * 100, abs=0.01)
    burn = estimate.number("burn_rate")
    assert burn is not None and burn.value == pytest.approx(0.5 / 0.001)
    assert estimate.number("users_affected").value == 70  # type: ignore[union-attr]
    assert 'code=~"5.."' in failed.origin


def test_an_availability_slo_without_a_total_series_says_what_is_missing() -> None:
    errors = Series("errors", SeriesRole.ERRORS, _minutes([0.0, 5.0, 5.0, 0.0] * 20))
    estimate = compute_impact([errors], Slo(objective=SloObjective.AVAILABILITY), 99.9)
    assert any("'total' series" in note for note in estimate.notes)


def test_metric_impact_start_is_proposed_before_an_earlier_alert() -> None:
    def event(minutes: int, text: str) -> TimelineEvent:
        return TimelineEvent(at=T0 + MINUTE * minutes, text=text, kind=EventKind.OBSERVATION)

    proposals = propose_key_moments(
        [
            Candidate("a", event(0, "disk alert"), Signal.ALERT_FIRING, "disk", "alertmanager"),
            Candidate("m", event(5, "latency above 300 ms"), Signal.SLO_VIOLATED, "", "metrics"),
            Candidate("p", event(8, "paged"), Signal.PAGED, "", "pagerduty"),
        ]
    )
    first = proposals[0]
    assert first.moment is KeyMoment.IMPACT_STARTED and first.ref == "m"
    assert "metrics" in first.reason


def test_rpo_and_rto_achieved_come_from_the_key_moments_and_the_last_good_backup() -> None:
    pm = make_postmortem(
        impact={
            "data_loss": {
                "records_lost": 500,
                "records_recovered": 380,
                "last_good_backup_at": (T0 - dt.timedelta(hours=2)).isoformat(),
            }
        }
    )
    numbers = {n.field: n for n in compute_data_loss(pm)}
    assert numbers["data_loss.rpo_achieved_minutes"].value == 120
    assert numbers["data_loss.rto_achieved_minutes"].value == 30  # impact start to mitigated
    assert numbers["data_loss.records_unrecoverable"].value == 120
    assert "last good backup" in numbers["data_loss.rpo_achieved_minutes"].formula


@pytest.mark.parametrize(
    ("data_loss", "field", "words"),
    [
        ({"records_lost": 5, "records_recovered": 9}, "impact.data_loss", "more than records_lost"),
        (
            {"records_lost": 10, "records_recovered": 4, "records_unrecoverable": 5},
            "impact.data_loss.records_unrecoverable",
            "must equal records_lost",
        ),
        ({"last_good_backup_at": "2024-03-05T07:00:00"}, "impact.data_loss", "no time zone"),
    ],
)
def test_data_loss_figures_are_validated_together(
    data_loss: dict[str, object], field: str, words: str
) -> None:
    with pytest.raises(InvalidPostmortemError) as caught:
        make_postmortem(impact={"data_loss": data_loss})
    assert any(p.field.startswith(field) and words in p.message for p in caught.value.problems)


def test_responder_cost_is_each_participants_time_in_the_timeline_times_the_hourly_cost() -> None:
    pm = make_postmortem(
        participants=[{"name": "Ana", "role": "incident_commander"}, {"name": "Bo"}],
        impact={
            "cost": {
                "currency": "EUR",
                "hourly_cost": 100,
                "lines": [
                    {"label": "SLA credits", "amount": 2500},
                    {"label": "Refunds", "amount": 500},
                ],
            }
        },
    )
    events = list(pm.timeline)
    extra = [
        TimelineEvent(at=T0 + MINUTE * 9, text="Ana joins", actor="Ana"),
        TimelineEvent(at=T0 + MINUTE * 99, text="Ana hands over", actor="ana"),
        TimelineEvent(at=T0 + MINUTE * 20, text="Bo looks", actor="Bo"),
        TimelineEvent(at=T0 + MINUTE * 50, text="Bo leaves", actor="Bo"),
    ]
    pm = dataclasses.replace(pm, timeline=tuple(events + extra))
    cost = compute_cost(pm)
    assert cost.responder_hours == 2.0  # Ana 09:09-10:39 (1.5 h) + Bo 0.5 h
    assert cost.responder_cost == 200 and cost.business_cost == 3000 and cost.total == 3200
    assert (
        cost.formula
        == "2 h x 100 = 200.00 + business SLA credits 2,500.00 + Refunds 500.00 = 3,200.00"
    )
    assert cost_numbers(pm)[0].value == 2.0
    given = dataclasses.replace(
        pm,
        impact=dataclasses.replace(
            pm.impact, cost=dataclasses.replace(pm.impact.cost, responder_hours=5)
        ),
    )
    assert compute_cost(given).responder_hours == 5 and cost_numbers(given) == []


def test_cost_lines_must_agree_with_a_business_cost_given_with_them() -> None:
    with pytest.raises(InvalidPostmortemError, match="differs from the sum of the cost lines"):
        make_postmortem(
            impact={
                "cost": {
                    "currency": "USD",
                    "business_cost": 10,
                    "lines": [{"label": "x", "amount": 3}],
                }
            }
        )


def test_an_slo_needs_its_target_and_a_latency_slo_its_threshold() -> None:
    with pytest.raises(InvalidPostmortemError, match="slo_target_percent"):
        make_postmortem(impact={"slo": {"objective": "availability"}})
    with pytest.raises(InvalidPostmortemError, match="latency_threshold_ms"):
        make_postmortem(impact={"slo_target_percent": 99.9, "slo": {"objective": "latency"}})


def test_the_new_impact_fields_round_trip_through_the_markdown_form_and_stay_out_when_unset() -> (
    None
):
    plain = make_postmortem()
    assert "slo:" not in render_markdown(plain) and "sources" not in render_markdown(plain)
    pm = postmortem_from_dict(
        {
            **json.loads(json.dumps(_dict(plain))),
            "impact": {
                "slo_target_percent": 99.9,
                "burn_rate": 14.4,
                "slo": {
                    "service": "checkout",
                    "objective": "latency",
                    "window_days": 30,
                    "latency_threshold_ms": 300,
                },
                "sources": [
                    {"field": "downtime_minutes", "value": 42, "origin": "from `x` 09:00-09:42 UTC"}
                ],
                "downtime_minutes": 42,
                "data_loss": {"last_good_backup_at": "2024-03-05T07:00:00+00:00"},
                "cost": {
                    "currency": "EUR",
                    "hourly_cost": 90,
                    "lines": [{"label": "Credits", "amount": 10}],
                },
            },
        }
    )
    text = render_markdown(pm)
    again = read_markdown(text)
    assert again == pm and render_markdown(again) == text
    assert pm.impact.source_of("downtime_minutes") is not None
    edited = dataclasses.replace(pm, impact=dataclasses.replace(pm.impact, downtime_minutes=50))
    assert edited.impact.source_of("downtime_minutes") is None  # overridden by hand


def _dict(pm: object) -> dict[str, object]:
    from hindsight.domain.codec import postmortem_to_dict

    return postmortem_to_dict(pm)  # type: ignore[arg-type]
