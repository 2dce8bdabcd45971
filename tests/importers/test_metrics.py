"""The metrics importer: CSV, JSON samples and saved Prometheus answers; bounded; located errors."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hindsight.importers import metrics
from hindsight.importers.base import EvidenceError, ImportOptions, NoProgress, Source
from hindsight.importers.metrics import MAX_SERIES, downsample, read_series
from hindsight.importers.metrics.prometheus import MAX_POINTS, choose_step, points_for

NAB = Path(__file__).parents[1] / "data" / "metrics" / "ec2_request_latency_system_failure.csv"


def _read(name: str, text: str, **options: object) -> list:  # type: ignore[type-arg]
    source = Source.from_bytes(name, text.encode())
    return read_series(source, ImportOptions(**options), NoProgress())  # type: ignore[arg-type]


def test_the_real_nab_csv_reads_as_one_series_downsampled_to_the_stored_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (whole,) = read_series(Source.open(NAB), ImportOptions(), NoProgress())
    assert len(whole.points) == whole.raw_count == 4032
    monkeypatch.setattr(metrics, "MAX_STORED_POINTS", 2000)
    (series,) = read_series(Source.open(NAB), ImportOptions(), NoProgress())
    assert series.name == "ec2_request_latency_system_failure"
    assert series.raw_count == 4032
    assert 1000 < len(series.points) <= 2000
    assert series.points[0][0] == dt.datetime(2014, 3, 7, 3, 41, tzinfo=dt.UTC)
    # Each bucket keeps its highest sample: the series' peak (99.248 ms) survives.
    assert max(v for _t, v in series.points) == pytest.approx(99.248)


def test_downsampling_keeps_the_worst_sample_of_each_bucket() -> None:
    at = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    points = [(at + dt.timedelta(seconds=i), float(i % 7)) for i in range(70)]
    assert downsample(points, 10) == [(points[i][0], 6.0) for i in range(0, 70, 7)]
    assert downsample(points, 10, keep_low=True)[0][1] == 0.0
    assert downsample(points, 100) == points


def test_extra_csv_columns_are_labels_that_split_series_and_times_may_be_unix_seconds() -> None:
    text = "timestamp,value,code\n1700000000,1.5,500\n1700000060,2,500\n1700000000,9,200\n"
    found = {s.label_text: s for s in _read("rates.csv", text)}
    assert set(found) == {'{code="500"}', '{code="200"}'}
    assert [v for _t, v in found['{code="500"}'].points] == [1.5, 2.0]


def test_json_samples_with_labels_read_and_times_without_a_zone_use_the_zone_given() -> None:
    rows = [
        {"timestamp": "2024-01-01T10:00:00", "value": 3, "labels": {"job": "api"}},
        {"timestamp": "2024-01-01T10:01:00", "value": "4.5", "labels": {"job": "api"}},
    ]
    (series,) = _read("samples.json", json.dumps(rows), zone="Europe/Berlin")
    assert series.points[0] == (dt.datetime(2024, 1, 1, 9, 0, tzinfo=dt.UTC), 3.0)
    assert series.label_text == '{job="api"}'


def test_a_saved_prometheus_answer_reads_each_series_with_its_labels() -> None:
    answer = {
        "status": "success",
        "data": {
            "resultType": "matrix",
            "result": [
                {
                    "metric": {"__name__": "up", "job": "node"},
                    "values": [[1700000000, "1"], [1700000015, "0"]],
                }
            ],
        },
    }
    (series,) = _read("answer.json", json.dumps(answer))
    assert series.name == "up" and series.label_text == '{job="node"}'
    assert [v for _t, v in series.points] == [1.0, 0.0]


@pytest.mark.parametrize(
    ("name", "text", "words"),
    [
        (
            "bad.csv",
            "timestamp,value\n2024-01-01T00:00:00Z,1\n2024-01-01T00:01:00Z,fast\n",
            "bad.csv:3: field 'value': 'fast' is not a number",
        ),
        ("bad.csv", "timestamp,value\nyesterday,1\n", "bad.csv:2: field 'timestamp'"),
        (
            "bad.csv",
            "timestamp,value\n2024-01-01T00:00:00Z,1,2\n",
            "bad.csv:2: 3 fields where the header has 2",
        ),
        ("bad.csv", "when,how much\n1,2\n", "bad.csv:1: the header must name a time column"),
        ("bad.csv", "timestamp,value\n2024-01-01T00:00:00Z,nan\n", "not a finite number"),
        (
            "bad.json",
            '[{"timestamp": 1700000000}]',
            "bad.json: item 1: field 'value' is missing",
        ),
        (
            "bad.json",
            '[{"timestamp": 1700000000, "value": 1}, 3]',
            "bad.json: item 2: expected an object",
        ),
        (
            "bad.json",
            '{"status": "error", "errorType": "bad_data", "error": "parse error", "data": {}}',
            "Prometheus answered bad_data: parse error",
        ),
        (
            "empty.json",
            '{"status": "success", "data": {"resultType": "matrix", "result": []}}',
            "the query returned no series",
        ),
        ("bad.json", "[1,", "not valid JSON"),
    ],
)
def test_malformed_series_are_refused_naming_the_file_line_and_field(
    name: str, text: str, words: str
) -> None:
    with pytest.raises(EvidenceError) as caught:
        _read(name, text)
    assert words in str(caught.value)


def test_too_many_series_in_one_file_are_refused() -> None:
    lines = ["timestamp,value,host"] + [f"1700000000,1,h{i}" for i in range(MAX_SERIES + 1)]
    with pytest.raises(EvidenceError, match=f"more than {MAX_SERIES} series"):
        _read("hosts.csv", "\n".join(lines))


def test_the_step_keeps_every_series_under_prometheus_limit_and_a_too_small_one_is_refused() -> (
    None
):
    start = dt.datetime(2014, 3, 7, tzinfo=dt.UTC)
    end = start + dt.timedelta(days=14)
    step = choose_step(start, end)
    assert points_for(start, end, step) <= 1000 and step == 1800
    assert choose_step(start, end, 300) == 300
    with pytest.raises(EvidenceError) as caught:
        choose_step(start, end, 60)
    assert f"Prometheus allows {MAX_POINTS:,}: use a step of 120 s or more" in str(caught.value)
    assert points_for(start, end, 120) <= MAX_POINTS


FUZZ = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SEED = NAB.read_bytes()[:2000]


def _only_our_error(name: str, data: bytes) -> None:
    try:
        read_series(Source.from_bytes(name, data), ImportOptions(), NoProgress())
    except EvidenceError as error:
        assert name in str(error)


@FUZZ
@given(data=st.binary(max_size=400), name=st.sampled_from(["s.csv", "s.json"]))
def test_arbitrary_bytes_give_series_or_our_located_error(data: bytes, name: str) -> None:
    _only_our_error(name, data)


@FUZZ
@given(cut=st.integers(0, len(SEED)), junk=st.binary(max_size=20))
def test_a_damaged_real_csv_gives_series_or_our_located_error(cut: int, junk: bytes) -> None:
    _only_our_error("nab.csv", SEED[:cut] + junk + SEED[cut:])
