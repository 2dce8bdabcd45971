"""A real Prometheus (Debian's package) holding a real series: NAB's EC2 request latency,
backfilled with `promtool tsdb create-blocks-from openmetrics`, imported through query_range
with basic auth, and the impact computed from it checked against NAB's labelled windows."""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hindsight.errors import InvalidInputError
from hindsight.importers.base import ImportOptions
from hindsight.importers.metrics.prometheus import RangeQuery
from hindsight.services.evidence import list_evidence
from hindsight.services.metrics import impact_report, import_metrics
from hindsight.storage.models import MetricSeriesRow
from tests.factories import make_postmortem

DATA = Path(__file__).parents[1] / "data" / "metrics"
USER, PASSWORD = "hindsight", "s3cret-pass"
# bcrypt of PASSWORD at cost 4 (Prometheus' web config takes bcrypt hashes only).
PASSWORD_HASH = "$2b$04$JJoxOrzWhFNFsICN1latU.HyJSmlDJyudV2qe9YQW8oztu723Jx5q"
METRIC = 'ec2_request_latency{instance="i-nab"}'
START = dt.datetime(2014, 3, 7, 3, 41, tzinfo=dt.UTC)
END = dt.datetime(2014, 3, 21, 3, 36, tzinfo=dt.UTC)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _openmetrics(target: Path) -> None:
    with (
        (DATA / "ec2_request_latency_system_failure.csv").open() as handle,
        target.open("w") as out,
    ):
        out.write("# TYPE ec2_request_latency gauge\n")
        for row in csv.DictReader(handle):
            at = dt.datetime.fromisoformat(row["timestamp"]).replace(tzinfo=dt.UTC)
            out.write(f"{METRIC} {row['value']} {int(at.timestamp())}\n")
        out.write("# EOF\n")


def _wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    request = urllib.request.Request(f"{url}/-/ready")
    request.add_header("Authorization", "Basic aGluZHNpZ2h0OnMzY3JldC1wYXNz")
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"prometheus exited with {process.returncode}")
        try:
            with urllib.request.urlopen(request, timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)  # waiting for a server to start, not timing anything
    raise RuntimeError("prometheus did not become ready in 60 s")


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if shutil.which("prometheus") is None or shutil.which("promtool") is None:
        pytest.fail("this test needs Debian's prometheus package: apt-get install prometheus")
    folder = tmp_path_factory.mktemp("prometheus")
    _openmetrics(folder / "nab.om")
    subprocess.run(
        [
            "promtool",
            "tsdb",
            "create-blocks-from",
            "openmetrics",
            "--max-block-duration=384h",  # a few large blocks, not 168 of two hours (20 s)
            "-q",
            str(folder / "nab.om"),
            str(folder / "data"),
        ],
        check=True,
        capture_output=True,
    )
    (folder / "prometheus.yml").write_text("global:\n  scrape_interval: 1h\n")
    (folder / "web.yml").write_text(f"basic_auth_users:\n  {USER}: {PASSWORD_HASH}\n")
    port = _free_port()
    process = subprocess.Popen(
        [
            "prometheus",
            f"--config.file={folder / 'prometheus.yml'}",
            f"--web.config.file={folder / 'web.yml'}",
            f"--storage.tsdb.path={folder / 'data'}",
            "--storage.tsdb.retention.time=100y",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def _query(url: str, **overrides: object) -> RangeQuery:
    values: dict[str, object] = {
        "url": url,
        "query": METRIC,
        "start": START,
        "end": END,
        "step_seconds": 300.0,
        "username": USER,
        "password": PASSWORD,
    }
    values.update(overrides)
    return RangeQuery(**values)  # type: ignore[arg-type]


def _stored(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(MetricSeriesRow)) or 0)


def _incident(session: Session) -> str:
    from hindsight.services.incidents import create_postmortem

    pm = make_postmortem(key="2014-03-ec2-latency", impact={})
    create_postmortem(session, postmortem=pm, author="test")
    return pm.key


def test_a_series_imported_from_prometheus_gives_the_labelled_impact_windows(
    session: Session, prometheus: str
) -> None:
    key = _incident(session)
    summary = import_metrics(
        session, key=key, role="latency", author="test", query=_query(prometheus)
    )
    (series,) = summary.series
    assert summary.step_seconds == 300 and 4000 < series.raw_count <= 4032
    assert series.title == METRIC and series.labels == '{instance="i-nab"}'
    labelled = json.loads((DATA / "ec2_request_latency_system_failure.windows.json").read_text())
    windows = [
        tuple(dt.datetime.fromisoformat(t[:19]).replace(tzinfo=dt.UTC) for t in pair)
        for pair in next(iter(labelled.values()))
    ]
    found = impact_report(session, key=key).estimate.windows
    assert len(found) == len(windows)
    for (start, end), window in zip(windows, found, strict=True):
        assert window.start <= end and start <= window.end, (start, end, window)
    # The impact start is proposed from the metrics, at the first window.
    suggested = [e for e in list_evidence(session, key=key) if e.kind == "metrics"]
    assert suggested[0].event.at == found[0].start
    assert "impact begins" in suggested[0].event.text


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"password": "wrong"}, "refused the credentials (HTTP 401)"),
        ({"query": "no_such_metric"}, "the query returned no series"),
        (
            {"query": "rate(ec2_request_latency["},
            "Prometheus refused the query (HTTP 400, bad_data",
        ),
        ({"step_seconds": 10.0}, "Prometheus allows 11,000: use a step of 120 s or more"),
    ],
)
def test_a_bad_prometheus_import_says_why_and_stores_nothing(
    session: Session, prometheus: str, overrides: dict[str, object], words: str
) -> None:
    key = _incident(session)
    with pytest.raises(InvalidInputError) as caught:
        import_metrics(
            session, key=key, role="latency", author="t", query=_query(prometheus, **overrides)
        )
    assert words in str(caught.value)
    assert _stored(session) == 0


def test_an_unreachable_prometheus_is_named_as_such(session: Session) -> None:
    key = _incident(session)
    url = f"http://127.0.0.1:{_free_port()}"
    with pytest.raises(InvalidInputError, match="cannot reach the Prometheus server"):
        import_metrics(session, key=key, role="latency", author="t", query=_query(url))
    assert _stored(session) == 0


def test_options_window_narrows_a_live_import(session: Session, prometheus: str) -> None:
    key = _incident(session)
    since = dt.datetime(2014, 3, 18, tzinfo=dt.UTC)
    summary = import_metrics(
        session,
        key=key,
        role="latency",
        author="t",
        query=_query(prometheus, start=since),
        options=ImportOptions(),
    )
    assert summary.series[0].start >= since
