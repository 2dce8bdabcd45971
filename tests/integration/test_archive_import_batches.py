"""Archive import brings search entries and similarity profiles up to date per batch of
reports, not per report: what it leaves must be what writing the incidents one by one
leaves, across batch boundaries, re-imports and refused reports; on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from hindsight.services import archive_import
from hindsight.services.archive_import import import_archive
from hindsight.services.archive_sources import ReportInput
from hindsight.services.profiles import refresh_profiles
from hindsight.storage.models import IncidentProfileRow, IncidentRow
from hindsight.storage.search_index import documents, facets, rebuild_search_index

ARCHIVE = Path(__file__).parents[1] / "data" / "archive"
NOW = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC)


def _reports(count: int) -> list[ReportInput]:
    paths = sorted(p for p in ARCHIVE.rglob("*.md") if "lists" not in p.parts)[:count]
    return [ReportInput(f"{p.parent.name}/{p.name}", p.read_bytes()) for p in paths]


def _search_rows(session: Session) -> tuple[list[Any], list[Any]]:
    connection = session.connection()
    docs = connection.execute(select(documents).order_by(documents.c.incident_id)).all()
    # Lines sorted: storage/search_index.py reads an incident's items without ORDER BY, so on
    # PostgreSQL their order follows the query plan, which differs between a batch and all.
    found = connection.execute(
        select(facets).order_by(facets.c.incident_id, facets.c.facet, facets.c.value)
    ).all()
    return [_lines_sorted(row) for row in docs], [tuple(row) for row in found]


def _lines_sorted(row: Any) -> tuple[Any, ...]:
    return tuple(sorted(v.split("\n")) if isinstance(v, str) else v for v in row)


def _profile_rows(session: Session) -> list[tuple[Any, ...]]:
    rows = session.scalars(select(IncidentProfileRow).order_by(IncidentProfileRow.incident_id))
    return [(r.incident_id, r.terms, r.categories, r.model, r.vector, r.text_hash) for r in rows]


def _as_written_one_by_one(session: Session) -> tuple[tuple[list[Any], list[Any]], list[Any]]:
    """The search rows and profiles the per-incident write path gives for what is stored."""
    rebuild_search_index(session.connection())
    session.execute(delete(IncidentProfileRow))
    session.expunge_all()
    refresh_profiles(session, now=NOW)
    return _search_rows(session), _profile_rows(session)


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archive_import, "CHUNK", 3)


@pytest.mark.usefixtures("small_batches")
def test_batched_search_entries_and_profiles_equal_those_written_one_by_one(
    session: Session,
) -> None:
    reports = _reports(8)
    outcomes = import_archive(session, reports, author="archivist", zone="Europe/London", now=NOW)
    assert [o.outcome for o in outcomes] == ["created"] * 8
    batched = _search_rows(session), _profile_rows(session)
    assert len(batched[0][0]) == len(batched[1]) == 8
    assert batched == _as_written_one_by_one(session)


@pytest.mark.usefixtures("small_batches")
def test_a_reimport_and_a_report_named_twice_in_one_run_update_the_search_entry(
    session: Session,
) -> None:
    first, *others = _reports(4)
    import_archive(session, [first, *others], author="archivist", now=NOW)
    assert first.data is not None
    renamed = first.data + b"\n\nZanzibar walrus outage.\n"
    twice = [ReportInput(first.name, first.data), *others, ReportInput(first.name, renamed)]
    outcomes = import_archive(session, twice, author="archivist", now=NOW)
    assert [o.outcome for o in outcomes] == ["unchanged"] * 4 + ["updated"]
    assert session.scalar(select(func.count()).select_from(IncidentRow)) == 4
    batched = _search_rows(session), _profile_rows(session)
    assert any("Zanzibar walrus" in str(row) for row in batched[0][0])
    assert any("zanzibar" in row[1] for row in batched[1])
    assert batched == _as_written_one_by_one(session)


@pytest.mark.usefixtures("small_batches")
def test_a_refused_report_in_a_batch_leaves_no_search_entry_or_profile(session: Session) -> None:
    good = _reports(4)
    reports = [*good[:2], ReportInput("team/binary.md", b"\x00\x01\x02" * 40), *good[2:]]
    outcomes = import_archive(session, reports, author="archivist", now=NOW)
    assert [o.outcome for o in outcomes] == ["created"] * 2 + ["refused"] + ["created"] * 2
    batched = _search_rows(session), _profile_rows(session)
    assert len(batched[0][0]) == len(batched[1]) == 4
    assert batched == _as_written_one_by_one(session)


def test_the_same_report_under_three_names_gets_three_keys(session: Session) -> None:
    [report] = _reports(1)
    names = [f"team-{n}/{report.name}" for n in range(3)]
    outcomes = import_archive(
        session, [ReportInput(name, report.data) for name in names], author="archivist", now=NOW
    )
    base = outcomes[0].key
    assert [o.key for o in outcomes] == [base, f"{base}-2", f"{base}-3"]
