"""Backup and restore keep every table, on both databases and across them, while writers run."""

from __future__ import annotations

import hashlib
import json
import threading
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from hindsight.domain.access import Role
from hindsight.domain.editing import set_field
from hindsight.errors import HindsightError
from hindsight.importers.base import ImportOptions, Source
from hindsight.services.accounts import (
    create_token,
    create_user,
    revoke_token,
    set_disabled,
    signing_secret,
)
from hindsight.services.backup import BackupError, restore_backup, write_backup
from hindsight.services.backup_format import decode_row
from hindsight.services.database import Database, open_database
from hindsight.services.demo import load_demo
from hindsight.services.imports import create_hook_token, import_evidence
from hindsight.services.incidents import update_postmortem
from hindsight.services.logins import record_login_failure
from hindsight.services.reviews import add_comment, add_member, decide, request_review
from hindsight.services.taxonomy import add_category
from hindsight.storage.backup import table_specs
from hindsight.storage.db import downgrade_database
from hindsight.storage.models import Base
from tests.factories import make_incident
from tests.integration.test_cli import Cli

DATA = Path(__file__).parents[1] / "data"
KEY = "2024-03-05-checkout-errors"
RESTRICTED = "2024-03-06-payroll-leak"
PASSWORD = "correct horse battery staple"
Contents = dict[str, list[tuple[Any, ...]]]


@pytest.fixture
def opened(make_url: Callable[[str], str]) -> Iterator[Callable[[str], Database]]:
    """Open new migrated databases of a named backend; all are closed at the end."""
    made: list[Database] = []

    def open_new(backend: str) -> Database:
        made.append(open_database(make_url(backend)))
        return made[-1]

    yield open_new
    for database in made:
        database.dispose()


def _fill(database: Database) -> None:
    """Something in every table the brief names: the demo, two incidents (one restricted),
    accounts, tokens, membership, a review, a comment, evidence, a hook token, the taxonomy."""
    with database.transaction() as session:
        load_demo(session, author="demo")
        make_incident(session)
        make_incident(session, key=RESTRICTED, title="Payroll leak", visibility="restricted")
        admin = create_user(session, username="admin", password=PASSWORD, role=Role.ADMIN)
        reviewer = create_user(session, username="rita", password=PASSWORD, display_name="Rita")
        create_user(session, username="gone", password=PASSWORD, role=Role.VIEWER)
        set_disabled(session, username="gone")
        create_token(session, actor=admin, name="ci")
        create_token(session, actor=reviewer, name="laptop")
        revoke_token(session, actor=reviewer, token_id=2)
        add_member(session, key=RESTRICTED, actor=admin, username="rita")
        request_review(session, key=KEY, actor=admin, reviewers=["rita"])
        decide(session, key=KEY, actor=reviewer, approve=True, note="Clear")
        add_comment(session, key=KEY, actor=reviewer, section="impact", body="Is **1200** right?")
        create_hook_token(session, key=KEY, author="admin", actor=admin)
        import_evidence(
            session,
            key=KEY,
            kind="alertmanager",
            source=Source.open(DATA / "alertmanager" / "prom_post_request_2_alerts.json"),
            options=ImportOptions(),
            author="admin",
        )
        add_category(session, name="feature-flags", description="Flags flipped")
        signing_secret(session)
        record_login_failure(session, username="admin", address="192.0.2.7")
    contents = _contents(database)
    named = ("incidents", "revisions", "comments", "evidence", "evidence_imports", "reviews")
    named += ("incident_members", "users", "api_tokens", "hook_tokens", "secrets")
    assert all(contents[name] for name in named), [n for n in named if not contents[n]]


def _contents(database: Database) -> Contents:
    """Every row of every table of the schema, in primary-key order."""
    with database.reading() as session:
        connection = session.connection()
        return {
            table.name: [
                tuple(row)
                for row in connection.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for table in Base.metadata.sorted_tables
        }


def _archived(path: Path) -> Contents:
    """Every row in an archive, decoded as a restore would, in the same shape as `_contents`."""
    with zipfile.ZipFile(path) as archive:
        contents: Contents = {}
        for spec in table_specs():
            member = f"tables/{spec.name}.jsonl"
            lines = archive.read(member).splitlines(keepends=True)
            rows = [decode_row(spec, member, n, line) for n, line in enumerate(lines, 1)]
            contents[spec.name] = [tuple(row[c.name] for c in spec.columns) for row in rows]
    return contents


def _rewrite(
    source: Path,
    target: Path,
    *,
    member: str | None = None,
    change: Callable[[bytes], bytes | None] = lambda data: data,
    manifest: Callable[[dict[str, Any]], None] = lambda document: None,
    fix_checksum: bool = True,
) -> Path:
    """A copy of an archive with one member changed (None drops it) and the manifest edited."""
    with zipfile.ZipFile(source) as original:
        members = {name: original.read(name) for name in original.namelist()}
    document = json.loads(members.pop("manifest.json"))
    if member is not None:
        changed = change(members.pop(member))
        if changed is not None:
            members[member] = changed
            if fix_checksum:
                [entry] = [e for e in document["tables"] if e["member"] == member]
                entry["sha256"] = hashlib.sha256(changed).hexdigest()
    manifest(document)
    with zipfile.ZipFile(target, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        archive.writestr("manifest.json", json.dumps(document))
    return target


def _replace_line(number: int, line: bytes) -> Callable[[bytes], bytes]:
    def change(data: bytes) -> bytes:
        lines = data.splitlines(keepends=True)
        lines[number - 1] = line
        return b"".join(lines)

    return change


@pytest.fixture
def filled(opened: Callable[[str], Database], backend: str) -> Database:
    database = opened(backend)
    _fill(database)
    return database


@pytest.fixture
def archive(filled: Database, tmp_path: Path) -> Path:
    path = tmp_path / "backup.zip"
    write_backup(filled, path)
    return path


class _Writer(threading.Thread):
    """Keeps creating and editing incidents through the services, one transaction at a time,
    and keeps a copy of every table after each commit."""

    def __init__(self, database: Database) -> None:
        super().__init__(daemon=True)
        self.database = database
        self.states = [_contents(database)]
        self.commits = 0
        self.changed = threading.Condition()
        self.stop = threading.Event()
        self.failure: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                self._write(self.commits + 1)
                state = _contents(self.database)
                with self.changed:
                    self.states.append(state)
                    self.commits += 1
                    self.changed.notify_all()
        except BaseException as error:  # reported by the test, not lost in the thread
            self.failure = error
            with self.changed:
                self.changed.notify_all()

    def _write(self, number: int) -> None:
        with self.database.transaction() as session:
            if number % 2:
                make_incident(session, key=f"2024-04-01-load-{number}", title=f"Load {number}")
            else:
                update_postmortem(
                    session,
                    key=KEY,
                    change=lambda pm: set_field(pm, "title", f"Checkout errors, take {number}"),
                    author="writer",
                )

    def wait_for_a_commit(self, _table: str = "", _rows: int = 0) -> None:
        """Block until the writer has committed once more (called between tables)."""
        with self.changed:
            seen = self.commits
            assert self.changed.wait_for(lambda: self.commits > seen or self.failure, 60)
        assert self.failure is None, self.failure


def test_a_backup_taken_while_incidents_are_written_restores_one_moment_of_the_database(
    filled: Database, opened: Callable[[str], Database], backend: str, tmp_path: Path
) -> None:
    writer = _Writer(filled)
    writer.start()
    try:
        writer.wait_for_a_commit()
        # The writer commits at least once between every two tables the backup reads.
        summary = write_backup(filled, tmp_path / "live.zip", progress=writer.wait_for_a_commit)
        commits_during_backup = writer.commits
    finally:
        writer.stop.set()
        writer.join(timeout=60)
    assert writer.failure is None, writer.failure
    assert commits_during_backup > len(Base.metadata.sorted_tables)

    archived = _archived(summary.path)
    moments = [n for n, state in enumerate(writer.states) if state == archived]
    assert moments, "the archive is not the database as it was at any one commit"
    assert moments[-1] < len(writer.states) - len(Base.metadata.sorted_tables)

    target = opened(backend)
    restored = restore_backup(target, summary.path)
    assert _contents(target) == archived
    assert restored.rows == summary.rows == {name: len(rows) for name, rows in archived.items()}
    with target.transaction() as session:  # the sequences continue after the restored ids
        make_incident(session, key="2024-05-01-after-the-restore")


def test_a_backup_restores_on_the_other_database_and_comes_back_the_same(
    filled: Database, opened: Callable[[str], Database], backend: str, tmp_path: Path
) -> None:
    other = "postgresql" if backend == "sqlite" else "sqlite"
    write_backup(filled, tmp_path / f"from-{backend}.zip")
    there = opened(other)
    assert restore_backup(there, tmp_path / f"from-{backend}.zip").source_backend == backend
    assert _contents(there) == _contents(filled)

    write_backup(there, tmp_path / f"from-{other}.zip")
    back = opened(backend)
    restore_backup(back, tmp_path / f"from-{other}.zip")
    assert _contents(back) == _contents(filled)
    with back.transaction() as session:
        make_incident(session, key="2024-05-01-after-the-round-trip")


def test_restore_refuses_a_database_that_already_holds_data(
    archive: Path, opened: Callable[[str], Database], backend: str
) -> None:
    target = opened(backend)
    with target.transaction() as session:
        make_incident(session, key="2024-01-01-already-here")
    before = _contents(target)
    with pytest.raises(HindsightError, match=r"already holds data \(table incidents\).*--force"):
        restore_backup(target, archive)
    assert _contents(target) == before


def test_restore_with_force_replaces_everything_in_one_go(
    archive: Path, filled: Database, opened: Callable[[str], Database], backend: str
) -> None:
    target = opened(backend)
    with target.transaction() as session:
        make_incident(session, key="2024-01-01-already-here")
        create_user(session, username="someone", password=PASSWORD)
    restore_backup(target, archive, force=True)
    assert _contents(target) == _contents(filled)


def test_a_line_of_bad_json_is_named_and_the_old_data_is_kept(
    archive: Path, filled: Database, tmp_path: Path
) -> None:
    # Revisions come after incidents: those were already replaced when line 2 fails.
    with filled.transaction() as session:
        make_incident(session, key="2024-01-01-kept")
    before = _contents(filled)
    bad = _rewrite(
        archive,
        tmp_path / "bad.zip",
        member="tables/revisions.jsonl",
        change=_replace_line(2, b'{"id": 2, "incident_id"\n'),
    )
    with pytest.raises(BackupError) as raised:
        restore_backup(filled, bad, force=True)
    assert str(raised.value) == (
        f"{bad}: tables/revisions.jsonl:2: not valid JSON (Expecting ':' delimiter at column 24)"
    )
    assert _contents(filled) == before


def test_a_member_that_does_not_match_its_checksum_is_refused_before_anything_changes(
    archive: Path, opened: Callable[[str], Database], backend: str, tmp_path: Path
) -> None:
    bad = _rewrite(
        archive,
        tmp_path / "bad.zip",
        member="tables/timeline_events.jsonl",
        change=lambda data: data.replace(b"Config pushed", b"Config pushes"),
        fix_checksum=False,
    )
    target = opened(backend)
    before = _contents(target)
    with pytest.raises(BackupError, match=r"tables/timeline_events.jsonl: checksum mismatch"):
        restore_backup(target, bad)
    assert _contents(target) == before


def test_a_member_whose_bytes_fail_the_zip_crc_is_reported_by_name(
    archive: Path, opened: Callable[[str], Database], backend: str, tmp_path: Path
) -> None:
    stored = _rewrite(archive, tmp_path / "stored.zip")  # uncompressed, so one byte can flip
    raw = stored.read_bytes()
    member = zipfile.ZipFile(stored).getinfo("tables/timeline_events.jsonl")
    at = raw.index(b"Config pushed", member.header_offset)
    stored.write_bytes(raw[:at] + b"K" + raw[at + 1 :])
    target = opened(backend)
    with pytest.raises(BackupError) as raised:
        restore_backup(target, stored)
    assert str(raised.value).startswith(
        f"{stored}: tables/timeline_events.jsonl: damaged, cannot be read (Bad CRC-32"
    )
    assert _contents(target)["incidents"] == []


def test_an_archive_without_a_table_the_schema_has_is_refused(
    archive: Path, opened: Callable[[str], Database], backend: str, tmp_path: Path
) -> None:
    def drop_evidence(document: dict[str, Any]) -> None:
        document["tables"] = [e for e in document["tables"] if e["name"] != "evidence"]

    bad = _rewrite(
        archive,
        tmp_path / "bad.zip",
        member="tables/evidence.jsonl",
        change=lambda data: None,
        manifest=drop_evidence,
    )
    with pytest.raises(BackupError) as raised:
        restore_backup(opened(backend), bad)
    assert str(raised.value) == (
        f"{bad}: manifest.json: the archive has no table evidence; the schema has"
    )


def test_a_value_of_the_wrong_kind_is_named_by_line_and_column(
    archive: Path, opened: Callable[[str], Database], backend: str, tmp_path: Path
) -> None:
    line = json.loads(zipfile.ZipFile(archive).read("tables/users.jsonl").splitlines()[2])
    line["disabled"] = "no"
    bad = _rewrite(
        archive,
        tmp_path / "bad.zip",
        member="tables/users.jsonl",
        change=_replace_line(3, json.dumps(line).encode() + b"\n"),
    )
    target = opened(backend)
    with pytest.raises(BackupError) as raised:
        restore_backup(target, bad)
    assert str(raised.value).endswith(
        "tables/users.jsonl:3: disabled: expected true or false, found 'no'"
    )
    assert _contents(target)["users"] == []


def test_a_row_the_database_refuses_is_named_by_its_line(
    archive: Path, opened: Callable[[str], Database], backend: str, tmp_path: Path
) -> None:
    def duplicate_first_row(data: bytes) -> bytes:
        lines = data.splitlines(keepends=True)
        return b"".join([*lines, lines[0]])

    bad = _rewrite(
        archive,
        tmp_path / "bad.zip",
        member="tables/incident_tags.jsonl",
        change=duplicate_first_row,
    )
    target = opened(backend)
    with pytest.raises(BackupError) as raised:
        restore_backup(target, bad)
    rows = len(_archived(archive)["incident_tags"])
    assert f"tables/incident_tags.jsonl:{rows + 1}: refused: " in str(raised.value)
    assert _contents(target)["incidents"] == []


def test_an_archive_of_another_schema_revision_is_refused_with_what_to_do(
    archive: Path, opened: Callable[[str], Database], backend: str, tmp_path: Path
) -> None:
    def older(document: dict[str, Any]) -> None:
        document["alembic_revision"] = "0004"

    bad = _rewrite(archive, tmp_path / "old.zip", manifest=older)
    with pytest.raises(HindsightError, match=r"holds schema revision 0004 .* restore it with"):
        restore_backup(opened(backend), bad)


def test_a_file_that_is_not_a_backup_is_refused(
    opened: Callable[[str], Database], backend: str, tmp_path: Path
) -> None:
    text = tmp_path / "notes.zip"
    text.write_text("not a zip\n", encoding="utf-8")
    with pytest.raises(HindsightError, match=r"notes.zip: not a Hindsight backup"):
        restore_backup(opened(backend), text)
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("manifest.json", '{"format": "something-else"}')
    with pytest.raises(BackupError, match=r"other.zip: manifest.json: not a Hindsight backup"):
        restore_backup(opened(backend), other)


def test_backup_leaves_an_existing_file_alone_unless_forced(
    filled: Database, archive: Path
) -> None:
    archive.write_bytes(b"precious")
    with pytest.raises(BackupError, match=r"already exists.*--force"):
        write_backup(filled, archive)
    assert archive.read_bytes() == b"precious"
    write_backup(filled, archive, overwrite=True)
    assert zipfile.ZipFile(archive).read("manifest.json").startswith(b"{")
    assert [p.name for p in archive.parent.iterdir()] == [archive.name]


def test_backup_refuses_a_database_at_an_older_schema(
    opened: Callable[[str], Database], backend: str, tmp_path: Path
) -> None:
    database = opened(backend)
    downgrade_database(database.engine, "0004")
    with pytest.raises(BackupError, match=r"schema revision 0004 .* writes (?!0004)\d{4}"):
        write_backup(database, tmp_path / "old.zip")
    assert not (tmp_path / "old.zip").exists()


def test_the_backup_and_restore_commands_move_a_database(
    make_url: Callable[[str], str], backend: str, tmp_path: Path
) -> None:
    source, target = Cli(make_url(backend)), Cli(make_url(backend))
    source("demo")
    written = json.loads(source("backup", str(tmp_path / "b.zip"), "--json").stdout)
    assert written["rows"]["incidents"] == 1 and written["source_backend"] == backend
    result = target("restore", str(tmp_path / "b.zip"))
    assert result.stdout.startswith(f"restored {written['total_rows']} rows in ")
    listed = json.loads(target("list", "--json").stdout)
    assert [item["key"] for item in listed["items"]] == ["2018-01-18-reddit-hugs-mybinder"]


def test_the_restore_command_reports_a_refusal_in_one_line(
    make_url: Callable[[str], str], backend: str, tmp_path: Path
) -> None:
    cli = Cli(make_url(backend))
    cli("demo")
    cli("backup", str(tmp_path / "b.zip"))
    refused = cli("restore", str(tmp_path / "b.zip"), ok=False)
    assert refused.exit_code == 1
    assert refused.stderr.count("\n") == 1 and refused.stderr.startswith("error: the database")
    cli("restore", str(tmp_path / "b.zip"), "--force")
    damaged = _rewrite(
        tmp_path / "b.zip",
        tmp_path / "damaged.zip",
        member="tables/incidents.jsonl",
        change=lambda data: data[:-40] + b"\n",
    )
    result = cli("restore", str(damaged), "--force", ok=False)
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"error: {damaged}: tables/incidents.jsonl:1: not valid JSON (")
