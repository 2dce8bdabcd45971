"""Archive import writes: one incident per report, re-import updates it, each report whole or
refused with nothing left behind; on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import os
import stat
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hindsight.services.archive_import import archive_flags, import_archive, preview_archive
from hindsight.services.archive_sources import (
    ArchiveInputError,
    ReportInput,
    iter_reports,
    read_zip,
)
from hindsight.services.incidents import get_postmortem
from hindsight.services.lint import lint_stored
from hindsight.storage.models import ArchiveSourceRow, IncidentRow, RevisionRow

ARCHIVE = Path(__file__).parents[1] / "data" / "archive"
UNIVAF = ARCHIVE / "univaf-incidents" / "2021-06-03--database-full.md"
MOJ = ARCHIVE / "moj-cloud-platform-incidents" / "2021-09-04-pingdom-check-prometheus-down.md"


def _counts(session: Session) -> tuple[int, int, int]:
    return (
        session.scalar(select(func.count()).select_from(IncidentRow)) or 0,
        session.scalar(select(func.count()).select_from(ArchiveSourceRow)) or 0,
        session.scalar(select(func.count()).select_from(RevisionRow)) or 0,
    )


def _report(path: Path) -> ReportInput:
    return ReportInput(f"{path.parent.name}/{path.name}", path.read_bytes())


def test_a_report_becomes_an_incident_and_importing_it_again_updates_the_same_one(
    session: Session,
) -> None:
    first = import_archive(session, [_report(UNIVAF)], author="archivist")
    assert [(o.outcome, o.key) for o in first] == [("created", "2021-06-03-database-full")]
    stored = get_postmortem(session, key="2021-06-03-database-full").postmortem
    assert stored.title == "2021-06-03: Database Full"
    assert len(stored.timeline) == 8
    again = import_archive(session, [_report(UNIVAF)], author="archivist")
    assert [(o.outcome, o.key) for o in again] == [("unchanged", "2021-06-03-database-full")]
    edited = UNIVAF.read_bytes().replace(b"Database Full", b"Database Completely Full", 1)
    changed = import_archive(
        session, [ReportInput(_report(UNIVAF).name, edited)], author="archivist"
    )
    assert [(o.outcome, o.key) for o in changed] == [("updated", "2021-06-03-database-full")]
    assert get_postmortem(session, key=changed[0].key).postmortem.title.endswith("Completely Full")
    assert _counts(session)[:2] == (1, 1)


def test_a_dry_run_says_what_would_happen_and_writes_nothing(session: Session) -> None:
    before = _counts(session)
    outcomes = preview_archive(session, [_report(UNIVAF), _report(MOJ)], zone="Europe/London")
    assert [o.outcome for o in outcomes] == ["would create", "would create"]
    assert outcomes[0].lines_by_part["action_items"] == [62, 64, 65, 66, 67]
    assert {f.code for f in outcomes[1].flags} >= {"moment-order", "duration"}
    assert _counts(session) == before


def test_the_flags_of_an_imported_report_are_kept_and_shown_by_lint(session: Session) -> None:
    [outcome] = import_archive(session, [_report(MOJ)], author="a", zone="Europe/London")
    incident = session.scalars(select(IncidentRow.id).where(IncidentRow.key == outcome.key)).one()
    codes = [flag.code for flag in archive_flags(session, incident_id=incident)]
    assert "moment-order" in codes
    findings = [f for f in lint_stored(session, key=outcome.key).findings if f.rule == "archive"]
    assert any("is before 'declared/acknowledged'" in f.message for f in findings)
    assert get_postmortem(session, key=outcome.key).postmortem.moment_order_note


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "is not UTF-8 text"),
        (b"", "is empty"),
        (b"   \n\n", "is empty"),
        (b"%PDF-1.4 not really a pdf", "is not a readable PDF"),
    ],
    ids=["binary", "empty", "blank", "broken-pdf"],
)
def test_bad_input_is_refused_with_a_reason_and_nothing_is_written(
    session: Session, data: bytes, expected: str
) -> None:
    before = _counts(session)
    [outcome] = import_archive(session, [ReportInput("team/bad.md", data)], author="a")
    assert outcome.outcome == "refused"
    assert expected in outcome.reason
    assert _counts(session) == before


def test_one_refused_report_leaves_the_others_imported(session: Session) -> None:
    # A report the domain refuses only when storing (a summary past the prose limit).
    huge = b"# Huge\n\n## Summary\n\n" + b"word " * 12_000
    outcomes = import_archive(
        session, [ReportInput("t/huge.md", huge), _report(UNIVAF)], author="a"
    )
    assert [o.outcome for o in outcomes] == ["refused", "created"]
    assert "summary" in outcomes[0].reason and "limit" in outcomes[0].reason
    assert _counts(session)[:2] == (1, 1)


def test_a_report_without_a_known_heading_imports_as_a_summary_only_draft(
    session: Session,
) -> None:
    text = b"# Notes from the outage\n\nThe disk filled up.\n\nWe grew it.\n"
    [outcome] = import_archive(session, [ReportInput("t/notes.md", text)], author="a")
    assert outcome.outcome == "created"
    assert "no-headings" in {flag.code for flag in outcome.flags}
    stored = get_postmortem(session, key=outcome.key).postmortem
    assert stored.review_status == "draft"
    assert "The disk filled up." in stored.summary and not stored.timeline


def test_a_100_mb_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    big = tmp_path / "team" / "big.md"
    big.parent.mkdir()
    with big.open("wb") as handle:
        handle.truncate(100 * 1024 * 1024)  # sparse: nothing is written to disk
    [report] = list(iter_reports([big.parent]))
    assert report.data is None
    assert "104,857,600 bytes" in report.refusal and "at most" in report.refusal


def _zip(entries: list[tuple[str, bytes, bool]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data, link in entries:
            info = zipfile.ZipInfo(name)
            if link:
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("entry", "link", "expected"),
    [
        ("../escape.md", False, "points outside the archive"),
        ("team/../../escape.md", False, "points outside the archive"),
        ("/etc/passwd.md", False, "points outside the archive"),
        ("team/link.md", True, "is a symbolic link"),
    ],
)
def test_a_zip_with_unsafe_entries_is_refused_whole(entry: str, link: bool, expected: str) -> None:
    data = _zip([("team/good.md", UNIVAF.read_bytes(), False), (entry, b"/etc/passwd", link)])
    with pytest.raises(ArchiveInputError, match=expected) as error:
        read_zip(None, name="upload.zip", data=data)
    assert "nothing was imported" in str(error.value)


def test_a_zip_of_a_folder_names_reports_as_the_folder_does(tmp_path: Path) -> None:
    data = _zip([("univaf-incidents/2021-06-03--database-full.md", UNIVAF.read_bytes(), False)])
    (tmp_path / "a.zip").write_bytes(data)
    from_zip = [r.name for r in iter_reports([tmp_path / "a.zip"])]
    from_folder = [r.name for r in iter_reports([UNIVAF])]
    assert from_zip == from_folder == ["univaf-incidents/2021-06-03--database-full.md"]


def test_a_symbolic_link_in_a_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "team"
    folder.mkdir()
    os.symlink(UNIVAF, folder / "linked.md")
    [report] = list(iter_reports([folder]))
    assert report.data is None and "symbolic link" in report.refusal


def test_a_zip_entry_larger_than_its_header_says_is_read_only_up_to_the_limit() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("team/bomb.md", b"a" * (6 * 1024 * 1024))
    data = bytearray(buffer.getvalue())
    # Make both headers claim 100 bytes: the reader must not trust them.
    start = data.index(b"PK\x01\x02")
    data[start + 24 : start + 28] = (100).to_bytes(4, "little")
    data[22:26] = (100).to_bytes(4, "little")
    [report] = read_zip(None, name="bomb.zip", data=bytes(data))
    assert report.data is None
    # zipfile stops at the size the header claims, so the unpacked data fails its check.
    assert report.refusal == "cannot be read from the zip (Bad CRC-32 for file 'team/bomb.md')"
