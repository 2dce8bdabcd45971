"""Reading evidence safely: zip bombs, oversized JSON, binary and empty files, chunk borders."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

import hindsight.importers.base as base
import hindsight.importers.logs as logs
from hindsight.importers.base import EvidenceError, ImportOptions, NoProgress, Source
from hindsight.importers.registry import read_all

DATA = Path(__file__).parent.parent / "data"


def test_a_zip_bomb_is_refused_before_it_is_read(tmp_path: Path) -> None:
    bomb = tmp_path / "export.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("general/2016-01-15.json", b"[" + b" " * 50_000_000 + b"]")
    with pytest.raises(
        EvidenceError,
        match=r"export.zip:general/2016-01-15.json: expands \d+ "
        r"times \(50 MB\); refusing a possible zip bomb",
    ):
        Source.open(bomb)


def test_a_json_document_larger_than_the_limit_is_refused_with_its_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(base, "MAX_JSON_BYTES", 1000)
    (tmp_path / "channels.json").write_text('[{"id": "C1", "name": "ops"}]')
    (tmp_path / "ops").mkdir()
    day = tmp_path / "ops" / "2016-01-15.json"
    day.write_text(
        "[" + ",".join(['{"type": "message", "ts": "1452837352.0", "text": "x"}'] * 40) + "]"
    )
    with pytest.raises(
        EvidenceError,
        match=r"2016-01-15.json: 2.2 KB is too large for a JSON "
        r"document \(the limit is 1.0 KB\)",
    ):
        read_all("slack", Source.open(tmp_path), ImportOptions(), NoProgress())


def test_a_missing_path_is_named(tmp_path: Path) -> None:
    with pytest.raises(EvidenceError, match=r"nothing\.json: no such file or folder"):
        Source.open(tmp_path / "nothing.json")


def test_a_binary_file_given_as_a_log_is_refused_at_line_1(tmp_path: Path) -> None:
    binary = tmp_path / "core.dump"
    binary.write_bytes(b"\x7fELF\x00\x00\x01" * 100)
    with pytest.raises(EvidenceError, match=r"core.dump:1: this is a binary file, not a text log"):
        read_all("logs", Source.open(binary), ImportOptions(), NoProgress())


def test_a_truncated_json_file_names_the_line_and_column(tmp_path: Path) -> None:
    cut = tmp_path / "log_entries.json"
    text = (DATA / "pagerduty" / "GET_log_entries__200__response.json").read_text()
    cut.write_text(text[: len(text) // 2])
    with pytest.raises(
        EvidenceError, match=r"log_entries.json:\d+: not valid JSON: .* at column \d+"
    ):
        read_all("pagerduty", Source.open(cut), ImportOptions(), NoProgress())


def test_logs_read_in_tiny_chunks_give_the_same_events_as_in_one_piece(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = DATA / "loghub" / "Zookeeper_2k.log"
    whole = read_all("logs", Source.open(path), ImportOptions(year=2015), NoProgress())
    monkeypatch.setattr(logs, "CHUNK_BYTES", 4096)
    pieces = read_all("logs", Source.open(path), ImportOptions(year=2015), NoProgress())
    assert [(e.event.at, e.event.text, e.event.provenance) for e in pieces] == [
        (e.event.at, e.event.text, e.event.provenance) for e in whole
    ]


def test_a_log_without_any_known_time_asks_for_the_format(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text("starting\nready\nrequest failed\n" * 10)
    with pytest.raises(EvidenceError, match=r"app\.log:1: no known timestamp.*--timestamp-format"):
        read_all("logs", Source.open(log), ImportOptions(), NoProgress())


def test_a_log_with_a_custom_time_format_is_read(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    lines = [f"27/11/2026 10:{minute:02d}:00 worker {minute} ok" for minute in range(40)]
    lines += [
        f"27/11/2026 10:{minute:02d}:30 ERROR db timeout after {minute} ms"
        for minute in range(35, 40)
    ]
    log.write_text("\n".join(lines) + "\n")
    options = ImportOptions(timestamp_format="%d/%m/%Y %H:%M:%S", zone="Europe/Paris")
    found = read_all("logs", Source.open(log), options, NoProgress())
    first_error = next(e for e in found if "ERROR" in e.event.text)
    assert first_error.event.at.isoformat() == "2026-11-27T09:35:30+00:00"
    assert first_error.event.text.startswith("New error log pattern")


def test_json_lines_logs_use_their_time_field(tmp_path: Path) -> None:
    log = tmp_path / "app.jsonl"
    rows = [
        f'{{"@timestamp": "2026-11-27T10:{m:02d}:00Z", "level": "info", "message": '
        f'"served request {m}"}}'
        for m in range(40)
    ]
    rows.append('{"@timestamp": "2026-11-27T10:45:00Z", "message": "upstream refused 10.0.0.1"}')
    log.write_text("\n".join(rows) + "\n")
    found = read_all("logs", Source.open(log), ImportOptions(), NoProgress())
    (event,) = [e for e in found if "refused" in e.event.text]
    assert event.event.at.isoformat() == "2026-11-27T10:45:00+00:00"
    assert event.event.provenance[0].locator == "line 41"


def test_a_huge_file_without_line_breaks_is_refused_without_reading_it_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(base, "MAX_JSON_BYTES", 1000)
    monkeypatch.setattr(base, "MAX_LINE_BYTES", 5000)
    huge = tmp_path / "alerts.json"
    huge.write_text('{"alerts": [' + ",".join(['{"status": "firing"}'] * 2000) + "]}")
    with pytest.raises(
        EvidenceError,
        match=r"alerts\.json: 42.0 KB is too large for one JSON document \(the limit is "
        r"1.0 KB\); give the records as a JSON array or one per line",
    ):
        read_all("alertmanager", Source.open(huge), ImportOptions(), NoProgress())


def _damaged_zip(tmp_path: Path, *, crc: bool) -> Path:
    """A Slack export whose day file fails while it is read: a bad CRC or a corrupt stream."""
    path = tmp_path / "export.zip"
    method = zipfile.ZIP_STORED if crc else zipfile.ZIP_DEFLATED
    day = b'[{"type": "message", "user": "U1", "text": "deploying", "ts": "1452873600.0"}]' * 50
    with zipfile.ZipFile(path, "w", compression=method) as archive:
        archive.writestr("channels.json", '[{"id": "C1", "name": "ops"}]')
        archive.writestr("users.json", '[{"id": "U1", "name": "ana"}]')
        archive.writestr("ops/2016-01-15.json", day)
    data = bytearray(path.read_bytes())
    at = data.index(b"ops/2016-01-15.json") + len("ops/2016-01-15.json") + 10
    data[at : at + 4] = b"\x00\xff\x00\xff"
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize("crc", [True, False], ids=["bad CRC", "corrupt stream"])
def test_a_zip_member_with_a_corrupt_stream_or_bad_crc_gives_a_located_error(
    tmp_path: Path, crc: bool
) -> None:
    source = Source.open(_damaged_zip(tmp_path, crc=crc))
    with pytest.raises(
        EvidenceError, match=r"export\.zip:ops/2016-01-15\.json: the archive is damaged \(.+\)"
    ):
        read_all("slack", source, ImportOptions(), NoProgress())
