"""Import other teams' postmortems: read each report, show where its lines went (dry run),
and create or update one incident per report, all-or-nothing per file."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from hindsight.analysis.archive import (
    DEFAULT_HEADINGS,
    ArchiveError,
    ArchiveReport,
    Flag,
    HeadingTable,
    convert_report,
    key_for,
    read_report,
)
from hindsight.domain.access import Actor
from hindsight.domain.codec import InvalidPostmortemError
from hindsight.domain.incidents import Postmortem
from hindsight.errors import HindsightError
from hindsight.services.archive_sources import ReportInput
from hindsight.services.incidents import (
    StoredPostmortem,
    create_postmortem,
    update_postmortem,
    visible_to,
)
from hindsight.services.profiles import refresh_profiles_of
from hindsight.storage.insight_facts import refresh_insight_facts
from hindsight.storage.models import ArchiveSourceRow, IncidentRow
from hindsight.storage.search_index import reindex_incidents

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class FileOutcome:
    """What importing (or previewing) one report did: created, updated, unchanged or refused
    (dry run: 'would create', 'would update'); the key, every flag, and where lines went."""

    name: str
    outcome: str
    key: str = ""
    title: str = ""
    reason: str = ""
    flags: tuple[Flag, ...] = ()
    lines_by_part: Mapping[str, Sequence[int]] = field(default_factory=dict)


def headings_for(extra: Mapping[str, Sequence[str]] | None) -> HeadingTable:
    """The heading table with a team's own wording added (settings.archive_headings)."""
    return DEFAULT_HEADINGS.extended(extra) if extra else DEFAULT_HEADINGS


def _read(
    report: ReportInput, *, zone: str | None, layout: str, headings: HeadingTable
) -> tuple[ArchiveReport, Postmortem, tuple[Flag, ...]]:
    if report.data is None:
        raise ArchiveError(report.name, 0, report.refusal)
    read = read_report(report.data, report.name, zone=zone, layout=layout, headings=headings)
    try:
        return read, *convert_report(read)
    except (ValueError, InvalidPostmortemError) as error:
        raise ArchiveError(report.name, 0, f"cannot be a postmortem: {error}") from None


HIDDEN = (
    "was imported before into an incident you may not see; ask one of its members or an admin "
    "to import it again"
)
CHUNK = 200  # reports read ahead together, and whose search entries and profiles are batched


@dataclass(frozen=True)
class _Before:
    """The incident a report was imported into before: its key and version, or hidden from
    the importing account (the report is refused without naming it)."""

    key: str
    version: int
    hidden: bool = False


def _imported_before(
    session: Session, names: Sequence[str], actor: Actor | None
) -> dict[str, _Before]:
    """For each of `names` imported before, its incident: two queries per 500 names."""
    found: dict[str, _Before] = {}
    for start in range(0, len(names), 500):
        chunk = names[start : start + 500]
        rows = session.execute(
            select(ArchiveSourceRow.source, IncidentRow.key, IncidentRow.version)
            .join(IncidentRow, ArchiveSourceRow.incident_id == IncidentRow.id)
            .where(ArchiveSourceRow.source.in_(chunk))
        ).all()
        if not rows:
            continue
        keys = [row.key for row in rows]
        query = select(IncidentRow.key).where(IncidentRow.key.in_(keys))
        visible = set(session.scalars(visible_to(query, actor, archived=None)))
        for row in rows:
            found[row.source] = _Before(row.key, row.version, row.key not in visible)
    return found


def _known(before: dict[str, _Before], name: str) -> str | None:
    """The key `name` was imported into, None if never; ArchiveError if the actor may not see it."""
    known = before.get(name)
    if known is not None and known.hidden:
        raise ArchiveError(name, 0, HIDDEN)
    return None if known is None else known.key


def _chunks(reports: Iterable[ReportInput]) -> Iterator[list[ReportInput]]:
    it = iter(reports)
    while chunk := list(itertools.islice(it, CHUNK)):
        yield chunk


def _free_key(session: Session, base: str) -> str:
    """`base`, else the first free of 'base-2', 'base-3'…: exact keys asked 50 at a time, so
    the key index answers (a LIKE 'base%' scans the table on both databases)."""
    for start in itertools.count(1, 50):
        wanted = [base if n == 1 else f"{base}-{n}" for n in range(start, start + 50)]
        taken = set(session.scalars(select(IncidentRow.key).where(IncidentRow.key.in_(wanted))))
        free = next((key for key in wanted if key not in taken), None)
        if free is not None:
            return free
    raise AssertionError("unreachable")  # pragma: no cover


def _refused(name: str, error: ArchiveError) -> FileOutcome:
    reason = f"line {error.line}: {error.message}" if error.line else error.message
    return FileOutcome(name, "refused", reason=reason)


def preview_archive(
    session: Session,
    reports: Iterable[ReportInput],
    *,
    zone: str | None = None,
    layout: str = "auto",
    headings: HeadingTable = DEFAULT_HEADINGS,
    progress: Progress | None = None,
    total: int = 0,
    actor: Actor | None = None,
) -> list[FileOutcome]:
    """The dry run: what importing would do with each report; writes nothing."""
    outcomes = []
    for chunk in _chunks(reports):
        before = _imported_before(session, [report.name for report in chunk], actor)
        for report in chunk:
            try:
                read, postmortem, flags = _read(report, zone=zone, layout=layout, headings=headings)
                key = _known(before, report.name)
            except ArchiveError as error:
                outcomes.append(_refused(report.name, error))
            else:
                outcomes.append(
                    FileOutcome(
                        report.name,
                        "would update" if key else "would create",
                        key or _free_key(session, postmortem.key),
                        postmortem.title,
                        flags=flags,
                        lines_by_part=read.lines_by_part(),
                    )
                )
            if progress:
                progress(len(outcomes), total, report.name)
    return outcomes


def _store(
    session: Session,
    report: ReportInput,
    read: ArchiveReport,
    postmortem: Postmortem,
    flags: tuple[Flag, ...],
    before: _Before | None,
    *,
    author: str,
    actor: Actor | None,
    now: dt.datetime,
) -> tuple[FileOutcome, StoredPostmortem]:
    """Write one report (its search entry and profile are left to `_refresh_derived`)."""
    source = {
        "digest": hashlib.sha256(report.data or b"").hexdigest(),
        "flags": [{"line": f.line, "code": f.code, "message": f.message} for f in flags],
        "imported_at": now,
    }
    if before is None:
        postmortem = _with_key(
            postmortem, _free_key(session, postmortem.key or key_for(report.name))
        )
        stored = create_postmortem(
            session,
            postmortem=postmortem,
            author=author,
            action="import-archive",
            now=now,
            actor=actor,
            derived=False,
        )
        incident_id = select(IncidentRow.id).where(IncidentRow.key == postmortem.key)
        session.execute(
            insert(ArchiveSourceRow).values(
                source=report.name, incident_id=incident_id.scalar_subquery(), **source
            )
        )
        outcome = "created"
    else:
        replacement = _with_key(postmortem, before.key)
        stored = update_postmortem(
            session,
            key=before.key,
            change=lambda current: _as_update(current, replacement),
            author=author,
            action="import-archive",
            now=now,
            actor=actor,
            derived=False,
        )
        session.execute(
            update(ArchiveSourceRow)
            .where(ArchiveSourceRow.source == report.name)
            .values(**source)
            .execution_options(synchronize_session=False)
        )
        outcome = "unchanged" if stored.version == before.version else "updated"
    session.flush()
    found = FileOutcome(
        report.name,
        outcome,
        stored.postmortem.key,
        stored.postmortem.title,
        flags=flags,
        lines_by_part=read.lines_by_part(),
    )
    return found, stored


def _with_key(postmortem: Postmortem, key: str) -> Postmortem:
    return dataclasses.replace(postmortem, key=key)


def _as_update(current: Postmortem, replacement: Postmortem) -> Postmortem:
    """The re-imported report, keeping the review status the team has moved it to."""
    return dataclasses.replace(
        replacement, review_status=current.review_status, visibility=current.visibility
    )


def _refresh_derived(session: Session, written: Mapping[str, Postmortem], now: dt.datetime) -> None:
    """Bring the search entries and similarity profiles of the incidents `written` (by key)
    up to date, all at once: a few queries per batch instead of a dozen per report."""
    if not written:
        return
    session.flush()
    ids: dict[str, int] = {}
    keys = list(written)
    for start in range(0, len(keys), 500):
        query = select(IncidentRow.key, IncidentRow.id).where(
            IncidentRow.key.in_(keys[start : start + 500])
        )
        ids.update((row.key, row.id) for row in session.execute(query))
    refresh_profiles_of(session, {ids[key]: pm for key, pm in written.items()}, now=now)
    reindex_incidents(session.connection(), list(ids.values()))
    refresh_insight_facts(session.connection(), list(ids.values()))


def import_archive(
    session: Session,
    reports: Iterable[ReportInput],
    *,
    author: str,
    zone: str | None = None,
    layout: str = "auto",
    headings: HeadingTable = DEFAULT_HEADINGS,
    actor: Actor | None = None,
    progress: Progress | None = None,
    total: int = 0,
    now: dt.datetime | None = None,
) -> list[FileOutcome]:
    """Create or update one incident per report. Each report is written inside its own
    savepoint: a report that fails anywhere (reading, validation, storing) is refused and
    leaves nothing behind, and the others still import.

    Steps, per chunk of CHUNK reports: find which were imported before (one query); read and
    store each in its savepoint; then refresh the search entries and similarity profiles of
    the incidents written, together, in the same transaction (derived data: a failure there
    is a fault of ours, not of a report, and fails the whole transaction)."""
    now = now or dt.datetime.now(dt.UTC)
    outcomes: list[FileOutcome] = []
    for chunk in _chunks(reports):
        before = _imported_before(session, [report.name for report in chunk], actor)
        written: dict[str, Postmortem] = {}
        for report in chunk:
            try:
                read, postmortem, flags = _read(report, zone=zone, layout=layout, headings=headings)
                _known(before, report.name)
                with session.begin_nested():
                    found, stored = _store(
                        session,
                        report,
                        read,
                        postmortem,
                        flags,
                        before.get(report.name),
                        author=author,
                        actor=actor,
                        now=now,
                    )
                before[report.name] = _Before(stored.postmortem.key, stored.version)
                if found.outcome != "unchanged":
                    written[stored.postmortem.key] = stored.postmortem
                outcomes.append(found)
            except ArchiveError as error:
                outcomes.append(_refused(report.name, error))
            except (HindsightError, InvalidPostmortemError, ValueError) as error:
                outcomes.append(FileOutcome(report.name, "refused", reason=str(error)))
            if progress:
                progress(len(outcomes), total, report.name)
        _refresh_derived(session, written, now)
    return outcomes


def summarise(outcomes: Sequence[FileOutcome]) -> dict[str, int]:
    """Counts per outcome, in a fixed order: created, updated, unchanged, refused…"""
    order = ("created", "updated", "unchanged", "would create", "would update", "refused")
    counts = {name: 0 for name in order}
    for outcome in outcomes:
        counts[outcome.outcome] = counts.get(outcome.outcome, 0) + 1
    return {
        name: count
        for name, count in counts.items()
        if count or name in ("created", "updated", "refused")
    }


def archive_flags(session: Session, *, incident_id: int) -> list[Flag]:
    """The flags stored with an incident's archived report (for lint); [] if not imported."""
    rows = session.scalars(
        select(ArchiveSourceRow.flags).where(ArchiveSourceRow.incident_id == incident_id)
    )
    return [
        Flag(int(f["line"]), str(f["code"]), str(f["message"])) for flags in rows for f in flags
    ]
