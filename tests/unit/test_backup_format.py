"""The archive's value encoding round-trips every kind of column exactly; bad lines say where."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hindsight.services.backup_format import (
    BackupError,
    Manifest,
    TableEntry,
    decode_row,
    encode_row,
    parse_manifest,
)
from hindsight.storage.backup import ColumnSpec, TableSpec, table_specs

SPEC = TableSpec(
    "things",
    (
        ColumnSpec("at", "datetime", False),
        ColumnSpec("due", "date", True),
        ColumnSpec("data", "json", False),
        ColumnSpec("done", "bool", False),
        ColumnSpec("count", "int", False),
        ColumnSpec("ratio", "float", True),
        ColumnSpec("text", "text", False),
        ColumnSpec("blob", "bytes", True),
    ),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
    max_leaves=12,
)
rows = st.fixed_dictionaries(
    {
        "at": st.datetimes(timezones=st.just(dt.UTC)),
        "due": st.none() | st.dates(),
        "data": json_values,
        "done": st.booleans(),
        "count": st.integers(),
        "ratio": st.none() | st.floats(allow_nan=False),
        "text": st.text(),
        "blob": st.none() | st.binary(),
    }
)


@given(row=rows)
def test_every_value_comes_back_as_it_was_written(row: dict[str, Any]) -> None:
    line = encode_row(SPEC, row)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert decode_row(SPEC, "tables/things.jsonl", 1, line) == row


def test_times_keep_their_offset_in_the_archive() -> None:
    row = {column.name: None for column in SPEC.columns}
    row |= {"at": dt.datetime(2018, 1, 18, 12, 19, tzinfo=dt.UTC), "data": {}, "done": True}
    row |= {"count": 1, "text": "", "due": dt.date(2024, 4, 1)}
    line = encode_row(SPEC, row)
    assert b'"at":"2018-01-18T12:19:00+00:00"' in line and b'"due":"2024-04-01"' in line


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b'{"at": 1\n', "things.jsonl:7: not valid JSON (Expecting ',' delimiter at column 9)"),
        (b"[1]\n", "things.jsonl:7: expected a JSON object, found list"),
        (
            b'{"at": "2018-01-18T12:19:00"}\n',
            "things.jsonl:7: at: the time '2018-01-18T12:19:00' has no offset",
        ),
        (b'{"nope": 1}\n', "things.jsonl:7: no such column in things: nope"),
    ],
)
def test_a_bad_line_is_reported_with_member_line_and_reason(line: bytes, reason: str) -> None:
    with pytest.raises(BackupError) as raised:
        decode_row(SPEC, "tables/things.jsonl", 7, line)
    assert str(raised.value).startswith(f"tables/{reason}")


def test_a_manifest_reads_back_as_it_was_written() -> None:
    entry = TableEntry("incidents", "tables/incidents.jsonl", 3, "ab" * 32, ("id", "key"))
    manifest = Manifest("0.1.0", "0005", dt.datetime(2024, 3, 5, tzinfo=dt.UTC), "sqlite", (entry,))
    assert parse_manifest(manifest.to_json().encode()) == manifest


def test_a_manifest_of_a_newer_format_is_refused() -> None:
    with pytest.raises(BackupError, match="format version 2 is not one this Hindsight reads"):
        parse_manifest(b'{"format": "hindsight-backup", "format_version": 2}')


def test_every_column_of_the_schema_has_a_lossless_kind() -> None:
    kinds = {column.kind for spec in table_specs() for column in spec.columns}
    assert kinds <= {"datetime", "date", "json", "bool", "int", "float", "text", "bytes"}
    assert {"datetime", "date", "json", "bool"} <= kinds


def test_bytes_that_are_not_base64_are_reported_with_their_column() -> None:
    row = {column.name: None for column in SPEC.columns}
    row |= {"at": dt.datetime(2018, 1, 18, tzinfo=dt.UTC), "data": {}, "done": True}
    row |= {"count": 1, "text": "", "blob": b"\x00pickled"}
    line = encode_row(SPEC, row).replace(b'"blob":"AHBpY2tsZWQ="', b'"blob":"not base64!"')
    with pytest.raises(BackupError, match=r"things.jsonl:3: blob: expected base64 text"):
        decode_row(SPEC, "tables/things.jsonl", 3, line)
