"""JSON evidence in bounded memory: dense documents refused, large arrays streamed element by
element with the same result as parsing them whole, and located errors either way."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hindsight.importers.base as base
import hindsight.importers.json_documents as json_documents
from hindsight.importers.base import EvidenceError, ImportOptions, NoProgress, Source
from hindsight.importers.json_documents import iter_documents
from hindsight.importers.registry import read_all

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=12,
)


def _documents(path: Path) -> list[object]:
    (item,) = Source.open(path).files
    return [document for _line, _where, document in iter_documents(item, NoProgress())]


def test_json_evidence_is_read_in_bounded_memory_not_25_times_its_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(base, "MAX_JSON_MEMORY", 2_000_000)
    dense = tmp_path / "dense.json"
    dense.write_text("[" + ",".join(["{}"] * 100_000) + "]")  # 300 KB; 7 MB parsed whole
    (item,) = Source.open(dense).files
    tracemalloc.start()
    try:
        count = sum(1 for _ in iter_documents(item, NoProgress()))
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 100_000
    # The file's bytes, one read buffer and the text of one chunk; never the parsed whole.
    assert peak < 3_000_000, f"peak {peak / 1e6:.1f} MB for 0.3 MB of JSON"


def test_a_dense_json_document_that_cannot_be_streamed_is_refused_with_its_estimate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(base, "MAX_JSON_MEMORY", 1_000_000)
    payload = tmp_path / "payload.json"
    payload.write_text(json.dumps({"alerts": [{}] * 100_000}, indent=1))
    with pytest.raises(
        EvidenceError,
        match=r"payload\.json: this JSON document would take about 1\d\.\d MB in memory once "
        r"read \(the limit is 1\.0 MB\); give the records as a JSON array or one per line",
    ):
        read_all("alertmanager", Source.open(payload), ImportOptions(), NoProgress())


def test_one_dense_element_of_a_streamed_array_is_refused_with_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(base, "MAX_JSON_MEMORY", 2_000_000)
    monkeypatch.setattr(json_documents, "_CHUNK", 4096)
    array = tmp_path / "array.json"
    array.write_text(
        '[\n{"time": "2024-03-05T09:00:00Z", "text": "a"},\n' + json.dumps([{}] * 200_000) + "\n]"
    )
    with pytest.raises(EvidenceError, match=r"array\.json:3: an element of the array would take"):
        _documents(array)


def test_a_large_json_array_of_events_is_streamed_and_imported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(base, "MAX_JSON_BYTES", 1000)
    rows = [{"time": f"2024-03-05T09:{m:02d}:00Z", "text": f"step {m}"} for m in range(60)]
    events = tmp_path / "events.json"
    events.write_text(json.dumps(rows, indent=2))
    found = read_all("generic", Source.open(events), ImportOptions(), NoProgress())
    assert [e.event.text for e in found] == [f"step {m}" for m in range(60)]
    assert found[59].event.provenance[0].locator == "item 60"


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(values=st.lists(JSON_VALUES, max_size=8), indent=st.sampled_from([None, 1]))
def test_a_streamed_array_gives_the_same_elements_as_parsing_it_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, values: list[object], indent: int | None
) -> None:
    monkeypatch.setattr(base, "MAX_JSON_BYTES", 0)
    monkeypatch.setattr(json_documents, "_CHUNK", 7)  # elements cut at every possible place
    path = tmp_path / "values.json"
    path.write_text("\ufeff " + json.dumps(values, indent=indent), encoding="utf-8")
    assert _documents(path) == json.loads(json.dumps(values))


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('[{"a": 1},\n {"a": 2}', r"array\.json:2: not valid JSON: the array is not closed"),
        ('[{"a": 1}\n {"a": 2}]', r"array\.json:2: not valid JSON: expecting ','"),
        ('[{"a": 1},\n]', r"array\.json:2: not valid JSON: a comma before the end"),
        ('[{"a": 1},\n {"a": tru}]', r"array\.json:2: not valid JSON: Expecting value"),
        ("[" * 100_000, r"array\.json:1: the JSON is nested too deeply"),
    ],
)
def test_a_broken_streamed_array_names_the_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, reason: str
) -> None:
    monkeypatch.setattr(base, "MAX_JSON_BYTES", 0)
    monkeypatch.setattr(json_documents, "_CHUNK", 5)
    path = tmp_path / "array.json"
    path.write_text(text)
    with pytest.raises(EvidenceError, match=reason):
        _documents(path)
