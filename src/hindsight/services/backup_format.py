"""The backup archive's format as plain values: the manifest and each column value's JSON form.

No files and no database here (`services/backup.py` reads and writes); every value round-trips
exactly. An archive is a zip file holding

    manifest.json          format, format_version, hindsight_version, alembic_revision,
                           created_at, source_backend, and per table (parents first): name,
                           member, rows, sha256 (of the member's bytes), columns
    tables/<table>.jsonl   one JSON object per row, keyed by column name

Values: times as ISO 8601 with their offset (`2024-03-05T09:00:00+00:00`), dates as
`2024-04-01`, JSON columns as the JSON value itself, booleans as `true`/`false`, NULL as `null`.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hindsight.errors import HindsightError, Located
from hindsight.storage.backup import ColumnSpec, TableSpec

FORMAT = "hindsight-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"


class BackupError(HindsightError):
    """An archive that cannot be written or restored; the message says where and why."""


def located(member: str, line: int, reason: str, column: str = "") -> BackupError:
    """An error at `line` (1-based; 0 for the whole member) of an archive member."""
    return BackupError(str(Located(member, line, column, reason)))


def member_for(table: str) -> str:
    """The archive member holding a table's rows."""
    return f"tables/{table}.jsonl"


@dataclass(frozen=True)
class TableEntry:
    """What the manifest says about one table."""

    name: str
    member: str
    rows: int
    sha256: str
    columns: tuple[str, ...]


@dataclass(frozen=True)
class Manifest:
    """The archive's table of contents, written last and read first."""

    hindsight_version: str
    alembic_revision: str
    created_at: dt.datetime
    source_backend: str
    tables: tuple[TableEntry, ...]

    def to_json(self) -> str:
        """The manifest as written into the archive."""
        document = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "hindsight_version": self.hindsight_version,
            "alembic_revision": self.alembic_revision,
            "created_at": self.created_at.isoformat(),
            "source_backend": self.source_backend,
            "tables": [
                {
                    "name": entry.name,
                    "member": entry.member,
                    "rows": entry.rows,
                    "sha256": entry.sha256,
                    "columns": list(entry.columns),
                }
                for entry in self.tables
            ],
        }
        return json.dumps(document, indent=2) + "\n"


def _field(document: Mapping[str, Any], name: str, kind: type[Any]) -> Any:
    value = document.get(name)
    if not isinstance(value, kind) or isinstance(value, bool) is not (kind is bool):
        raise located(MANIFEST, 0, f"expected {kind.__name__}, found {value!r}", name)
    return value


def _entry(document: Any) -> TableEntry:
    if not isinstance(document, dict):
        raise located(MANIFEST, 0, f"expected an object per table, found {document!r}", "tables")
    columns = _field(document, "columns", list)
    if not all(isinstance(column, str) for column in columns):
        raise located(MANIFEST, 0, "expected a list of column names", "columns")
    return TableEntry(
        name=_field(document, "name", str),
        member=_field(document, "member", str),
        rows=_field(document, "rows", int),
        sha256=_field(document, "sha256", str),
        columns=tuple(columns),
    )


def parse_manifest(data: bytes) -> Manifest:
    """Read `manifest.json`, refusing anything that is not a backup this version can restore."""
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        line = getattr(error, "lineno", 0)
        raise located(MANIFEST, line, f"not valid JSON ({_reason(error)})") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise located(MANIFEST, 0, f'not a Hindsight backup (no "format": "{FORMAT}")')
    version = _field(document, "format_version", int)
    if version != FORMAT_VERSION:
        raise located(
            MANIFEST,
            0,
            f"format version {version} is not one this Hindsight reads ({FORMAT_VERSION}); "
            "restore it with the Hindsight version that wrote it",
        )
    created = _field(document, "created_at", str)
    try:
        created_at = _decode_time(created)
    except ValueError as error:
        raise located(MANIFEST, 0, str(error), "created_at") from None
    return Manifest(
        hindsight_version=_field(document, "hindsight_version", str),
        alembic_revision=_field(document, "alembic_revision", str),
        created_at=created_at,
        source_backend=_field(document, "source_backend", str),
        tables=tuple(_entry(entry) for entry in _field(document, "tables", list)),
    )


def _reason(error: Exception) -> str:
    if isinstance(error, json.JSONDecodeError):
        return f"{error.msg} at column {error.colno}"
    return str(error)


def _encode(kind: str, value: Any) -> Any:
    if value is not None and kind in ("datetime", "date"):
        return value.isoformat()
    if value is not None and kind == "bytes":
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def encode_row(spec: TableSpec, row: Mapping[str, Any]) -> bytes:
    """One row as a line of its table's member (ASCII, so any text survives any reader)."""
    values = {column.name: _encode(column.kind, row[column.name]) for column in spec.columns}
    return (json.dumps(values, separators=(",", ":")) + "\n").encode("ascii")


def _decode_time(value: Any) -> dt.datetime:
    if not isinstance(value, str):
        raise ValueError(f"expected an ISO 8601 time with its offset, found {value!r}")
    parsed = dt.datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(f"the time {value!r} has no offset")
    return parsed


def _decode_date(value: Any) -> dt.date:
    if not isinstance(value, str) or len(value) != 10:
        raise ValueError(f"expected a date like 2024-04-01, found {value!r}")
    return dt.date.fromisoformat(value)


def _checked(accepts: tuple[type[Any], ...], what: str) -> Any:
    def check(value: Any) -> Any:
        if not isinstance(value, accepts) or (isinstance(value, bool) and bool not in accepts):
            raise ValueError(f"expected {what}, found {value!r}")
        return value

    return check


def _decode_bytes(value: Any) -> bytes:
    if not isinstance(value, str):
        raise ValueError(f"expected base64 text, found {value!r}")
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error:
        raise ValueError(f"expected base64 text, found {value[:40]!r}") from None


_DECODERS: dict[str, Any] = {
    "datetime": _decode_time,
    "date": _decode_date,
    "json": lambda value: value,
    "bool": _checked((bool,), "true or false"),
    "int": _checked((int,), "a whole number"),
    "float": _checked((int, float), "a number"),
    "text": _checked((str,), "text"),
    "bytes": _decode_bytes,
}


def _decode(column: ColumnSpec, value: Any) -> Any:
    if value is None and column.kind != "json":
        if not column.nullable:
            raise ValueError("may not be null")
        return None
    return _DECODERS[column.kind](value)


def decode_row(spec: TableSpec, member: str, number: int, line: bytes) -> dict[str, Any]:
    """The row written on line `number` of `member`, with every value checked against its column."""
    try:
        values = json.loads(line.removesuffix(b"\n"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise located(member, number, f"not valid JSON ({_reason(error)})") from None
    if not isinstance(values, dict):
        raise located(member, number, f"expected a JSON object, found {type(values).__name__}")
    names = {column.name for column in spec.columns}
    unknown = sorted(set(values) - names)
    if unknown:
        raise located(member, number, f"no such column in {spec.name}: {', '.join(unknown)}")
    row: dict[str, Any] = {}
    for column in spec.columns:
        if column.name not in values:
            raise located(member, number, "missing", column.name)
        try:
            row[column.name] = _decode(column, values[column.name])
        except ValueError as error:
            raise located(member, number, str(error), column.name) from None
    return row
