"""Hypothesis fuzz of every importer: arbitrary bytes and mutated real exports give either
events or Hindsight's own EvidenceError naming the file, never any other exception."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hindsight.importers.base import EvidenceError, ImportOptions, NoProgress, Source
from hindsight.importers.registry import IMPORTERS, read_all

DATA = Path(__file__).parent.parent / "data"
SEEDS = {
    "alertmanager": DATA / "alertmanager" / "all_ok_multiple.json",
    "pagerduty": DATA / "pagerduty" / "webhooks-v2_02_incident.acknowledge.json",
    "opsgenie": DATA / "opsgenie" / "get_alerts.json",
    "github": DATA / "github" / "deployment_status__payload.json",
    "git": DATA / "git" / "mybinder.org-deploy.first-parent.2018-01.jsonl",
    "logs": DATA / "loghub" / "Zookeeper_2k.log",
    "generic": None,
    "slack": DATA / "slack" / "slack-export-viewer-testarchive" / "enrique" / "2016-01-15.json",
}
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _check(kind: str, source: Source) -> None:
    try:
        found = read_all(kind, source, ImportOptions(), NoProgress())
    except EvidenceError as error:
        assert source.name in str(error) or str(error).startswith("--")
        return
    assert found


def _slack_zip(day: bytes) -> Source:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("channels.json", '[{"id": "C1", "name": "ops"}]')
        archive.writestr("users.json", '[{"id": "U1", "name": "ana"}]')
        archive.writestr("ops/2016-01-15.json", day)
    return Source.from_bytes("export.zip", buffer.getvalue())


def _source(kind: str, data: bytes, tmp: Path) -> Source:
    if kind == "slack":
        folder = tmp / "export"
        (folder / "ops").mkdir(parents=True, exist_ok=True)
        (folder / "channels.json").write_text('[{"id": "C1", "name": "ops"}]')
        (folder / "users.json").write_text('[{"id": "U1", "name": "ana"}]')
        (folder / "ops" / "2016-01-15.json").write_bytes(data)
        return Source.open(folder)
    name = "events.csv" if kind == "generic" else "input.log" if kind == "logs" else "in.json"
    return Source.from_bytes(name, data)


def _mutate(seed: bytes, cuts: list[tuple[int, bytes]]) -> bytes:
    data = bytearray(seed[:20_000])
    for position, replacement in cuts:
        at = position % (len(data) + 1)
        data[at : at + len(replacement)] = replacement
    return bytes(data)


def test_every_registered_importer_is_fuzzed() -> None:
    assert set(SEEDS) == set(IMPORTERS)


@pytest.mark.parametrize("kind", sorted(IMPORTERS))
@FUZZ
@given(data=st.binary(max_size=2000))
def test_arbitrary_bytes_give_events_or_a_located_import_error(
    kind: str, data: bytes, tmp_path_factory: pytest.TempPathFactory
) -> None:
    _check(kind, _source(kind, data, tmp_path_factory.mktemp("fuzz")))


@pytest.mark.parametrize("kind", sorted(k for k, v in SEEDS.items() if v is not None))
@FUZZ
@given(
    cuts=st.lists(
        st.tuples(st.integers(0, 20_000), st.binary(min_size=0, max_size=8)), min_size=1, max_size=6
    )
)
def test_mutated_real_exports_give_events_or_a_located_import_error(
    kind: str, cuts: list[tuple[int, bytes]], tmp_path_factory: pytest.TempPathFactory
) -> None:
    seed = SEEDS[kind]
    assert seed is not None
    data = _mutate(seed.read_bytes(), cuts)
    _check(kind, _source(kind, data, tmp_path_factory.mktemp("fuzz")))


@FUZZ
@given(day=st.binary(max_size=500))
def test_a_slack_zip_with_arbitrary_day_files_gives_events_or_a_located_error(day: bytes) -> None:
    _check("slack", _slack_zip(day))


@FUZZ
@given(
    rows=st.lists(
        st.tuples(st.text(max_size=30), st.text(max_size=40), st.text(max_size=10)), max_size=5
    )
)
def test_generic_csv_with_arbitrary_cells_gives_events_or_a_located_error(
    rows: list[tuple[str, str, str]],
) -> None:
    out = io.StringIO()
    out.write("time,text,kind\n")
    for time, text, kind in rows:
        out.write(",".join('"' + cell.replace('"', '""') + '"' for cell in (time, text, kind)))
        out.write("\n")
    _check("generic", Source.from_bytes("events.csv", out.getvalue().encode()))
