"""Back up every table to a portable archive and restore it, on SQLite and on PostgreSQL.

Backup:
1. open one read-only snapshot transaction (writers keep running) and check that the schema is
   the one this code knows;
2. write each table, parents first, as a JSON Lines member of a zip file beside PATH, counting
   rows and hashing bytes as they go;
3. write the manifest last, then move the finished file onto PATH (a failed backup leaves none).

Restore:
1. read the manifest: the format, the schema revision, and every table of the schema present;
2. check every member's sha256 before the database is touched;
3. in one transaction: refuse a database holding data unless forced, delete every row, insert
   each table's rows with their ids (each line checked again on the way), reset the sequences.
Any error rolls the transaction back, so the database is left as it was.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from hindsight import __version__
from hindsight.errors import HindsightError
from hindsight.services.backup_format import (
    MANIFEST,
    BackupError,
    Manifest,
    TableEntry,
    decode_row,
    encode_row,
    located,
    member_for,
    parse_manifest,
)
from hindsight.services.database import Database
from hindsight.services.incidents import utc_now
from hindsight.storage import backup as tables
from hindsight.storage.backup import TableSpec
from hindsight.storage.db import schema_revisions
from hindsight.storage.search_index import rebuild_search_index

__all__ = ["BackupError", "BackupSummary", "restore_backup", "write_backup"]

Progress = Callable[[str, int], None]
"""Called with a table's name and its row count once the table is written or restored."""

_BATCH = 500


@dataclass(frozen=True)
class BackupSummary:
    """What an archive holds, as written or as restored."""

    path: Path
    revision: str
    created_at: dt.datetime
    source_backend: str
    rows: dict[str, int]

    @property
    def total_rows(self) -> int:
        """Rows in every table together."""
        return sum(self.rows.values())


def _summary(path: Path, manifest: Manifest) -> BackupSummary:
    rows = {entry.name: entry.rows for entry in manifest.tables}
    return BackupSummary(
        path, manifest.alembic_revision, manifest.created_at, manifest.source_backend, rows
    )


def write_backup(
    database: Database,
    path: Path,
    *,
    overwrite: bool = False,
    now: dt.datetime | None = None,
    progress: Progress | None = None,
) -> BackupSummary:
    """Write every table to a new archive at `path` from one snapshot; writers keep running."""
    if path.exists() and not overwrite:
        raise BackupError(
            f"{path} already exists; choose another name or add --force to replace it"
        )
    specs = tables.table_specs()
    with _replacing(path) as partial, tables.snapshot(database.engine) as connection:
        revision = _source_revision(connection)
        manifest = _write_archive(partial, connection, specs, revision, now or utc_now(), progress)
    return _summary(path, manifest)


@contextmanager
def _replacing(path: Path) -> Iterator[Path]:
    """A temporary file beside `path`, moved onto it only if the block succeeds."""
    if path.is_dir():
        raise BackupError(f"{path} is a folder; give the archive a file name")
    partial: Path | None = None
    try:
        handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
        os.close(handle)
        partial = Path(name)
        yield partial
        with partial.open("rb+") as written:
            os.fsync(written.fileno())
        os.replace(partial, path)
    except OSError as error:
        raise BackupError(f"cannot write {path}: {error.strerror or error}") from None
    finally:
        if partial is not None:
            partial.unlink(missing_ok=True)


def _source_revision(connection: Connection) -> str:
    current, head = tables.current_revision(connection), tables.head_revision()
    if current is None:
        raise BackupError("the database has no Hindsight schema yet; there is nothing to back up")
    if current != head:
        raise BackupError(
            f"the database is at schema revision {current} and this Hindsight writes {head}: "
            "run any command (`hindsight info`) once to upgrade it, or back it up as it is "
            "with the database's own tool (see docs/backup.md)"
        )
    return current


def _write_archive(
    partial: Path,
    connection: Connection,
    specs: list[TableSpec],
    revision: str,
    created_at: dt.datetime,
    progress: Progress | None,
) -> Manifest:
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        entries = tuple(
            _write_table(archive, connection, spec, created_at, progress) for spec in specs
        )
        manifest = Manifest(__version__, revision, created_at, connection.dialect.name, entries)
        archive.writestr(MANIFEST, manifest.to_json())
    return manifest


def _write_table(
    archive: zipfile.ZipFile,
    connection: Connection,
    spec: TableSpec,
    created_at: dt.datetime,
    progress: Progress | None,
) -> TableEntry:
    member, digest, count = member_for(spec.name), hashlib.sha256(), 0
    info = zipfile.ZipInfo(member, date_time=created_at.timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    with archive.open(info, "w", force_zip64=True) as out:
        for row in tables.read_rows(connection, spec.name):
            line = encode_row(spec, row)
            digest.update(line)
            out.write(line)
            count += 1
    if progress is not None:
        progress(spec.name, count)
    columns = tuple(column.name for column in spec.columns)
    return TableEntry(spec.name, member, count, digest.hexdigest(), columns)


def restore_backup(
    database: Database, path: Path, *, force: bool = False, progress: Progress | None = None
) -> BackupSummary:
    """Replace everything in the database with the archive at `path`, all or nothing; a
    database that already holds data is refused unless `force`."""
    try:
        with _open_archive(path) as archive:
            manifest = parse_manifest(b"".join(_lines(archive, MANIFEST)))
            pairs = _pair_tables(manifest)
            _check_revision(database, path, manifest)
            for _spec, entry in pairs:
                _verify(archive, entry)
            with tables.restoring(database.engine) as connection:
                _make_room(connection, force)
                for spec, entry in pairs:
                    _restore_table(connection, archive, spec, entry)
                    if progress is not None:
                        progress(spec.name, entry.rows)
                tables.reset_sequences(connection)
                # The search index is derived data, not in the archive: built from the rows.
                rebuild_search_index(connection)
    except BackupError as error:
        raise BackupError(f"{path}: {error}") from None
    return _summary(path, manifest)


@contextmanager
def _open_archive(path: Path) -> Iterator[zipfile.ZipFile]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise HindsightError(f"{path}: not a Hindsight backup ({reason})") from None
    with archive:
        yield archive


def _lines(archive: zipfile.ZipFile, member: str) -> Iterator[bytes]:
    """The member's lines, as stored; a missing or damaged member is reported by name."""
    try:
        info = archive.getinfo(member)
    except KeyError:
        raise located(member, 0, "missing from the archive") from None
    try:
        with archive.open(info) as stream:
            yield from stream
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as error:
        raise located(member, 0, f"damaged, cannot be read ({error})") from None


def _pair_tables(manifest: Manifest) -> list[tuple[TableSpec, TableEntry]]:
    """Each table of the schema with its entry in the archive; both must hold the same tables
    with the same columns."""
    entries = {entry.name: entry for entry in manifest.tables}
    specs = tables.table_specs()
    missing = [spec.name for spec in specs if spec.name not in entries]
    if missing:
        raise located(MANIFEST, 0, f"the archive has no table {', '.join(missing)}; the schema has")
    extra = sorted(set(entries) - {spec.name for spec in specs})
    if extra:
        raise located(MANIFEST, 0, f"the schema has no table {', '.join(extra)}; the archive has")
    for spec in specs:
        entry = entries[spec.name]
        expected = [column.name for column in spec.columns]
        if sorted(entry.columns) != sorted(expected):
            raise located(
                entry.member,
                0,
                f"columns {', '.join(entry.columns)} do not match the schema's "
                f"{', '.join(expected)}",
            )
    return [(spec, entries[spec.name]) for spec in specs]


def _check_revision(database: Database, path: Path, manifest: Manifest) -> None:
    current, _head = schema_revisions(database.engine)
    if manifest.alembic_revision != current:
        raise HindsightError(
            f"{path} holds schema revision {manifest.alembic_revision} (written by Hindsight "
            f"{manifest.hindsight_version}) and this database is at {current}: restore it with "
            "that Hindsight version, which then upgrades when this one first opens it"
        )


def _verify(archive: zipfile.ZipFile, entry: TableEntry) -> None:
    digest = hashlib.sha256()
    for line in _lines(archive, entry.member):
        digest.update(line)
    if digest.hexdigest() != entry.sha256:
        raise located(
            entry.member,
            0,
            f"checksum mismatch (sha256 {digest.hexdigest()[:16]}…, the manifest says "
            f"{entry.sha256[:16]}…); the archive is damaged",
        )


def _make_room(connection: Connection, force: bool) -> None:
    holder = tables.holding_data(connection)
    if holder is not None and not force:
        raise HindsightError(
            f"the database already holds data (table {holder}); restore into a new, empty "
            "database, or add --force to replace everything in it"
        )
    tables.delete_everything(connection)


def _restore_table(
    connection: Connection, archive: zipfile.ZipFile, spec: TableSpec, entry: TableEntry
) -> None:
    digest, batch, count = hashlib.sha256(), [], 0
    for count, line in enumerate(_lines(archive, entry.member), 1):
        digest.update(line)
        batch.append(decode_row(spec, entry.member, count, line))
        if len(batch) == _BATCH:
            _insert(connection, spec.name, entry.member, count - len(batch) + 1, batch)
            batch = []
    _insert(connection, spec.name, entry.member, count - len(batch) + 1, batch)
    if count != entry.rows:
        raise located(entry.member, 0, f"{count} rows, and the manifest says {entry.rows}")
    if digest.hexdigest() != entry.sha256:
        raise located(entry.member, 0, "changed while it was being restored")


def _insert(
    connection: Connection, table: str, member: str, first: int, rows: list[dict[str, Any]]
) -> None:
    """Insert a batch; if the database refuses it, find the line it refused, row by row."""
    try:
        with connection.begin_nested():
            tables.insert_rows(connection, table, rows)
    except (DBAPIError, HindsightError):
        for offset, row in enumerate(rows):
            try:
                with connection.begin_nested():
                    tables.insert_rows(connection, table, [row])
            except (DBAPIError, HindsightError) as error:
                raise located(member, first + offset, f"refused: {_reason(error)}") from None
        raise


def _reason(error: Exception) -> str:
    if isinstance(error, DBAPIError) and error.orig is not None:
        return str(error.orig).strip().splitlines()[0]
    return str(error).strip().splitlines()[0]
