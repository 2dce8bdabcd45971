"""Import other teams' postmortems: read each report, show where its lines went (dry run),
and create or update one incident per report, all-or-nothing per file."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
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
    create_postmortem,
    get_postmortem,
    update_postmortem,
    visible_to,
)
from hindsight.storage.models import ArchiveSourceRow, IncidentRow

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


def _existing_key(session: Session, name: str, actor: Actor | None = None) -> str | None:
    """The key of the incident this report was imported into before, if any. One `actor` may
    not see is refused without naming it (ArchiveError), so a re-import never reveals it."""
    query = (
        select(IncidentRow.key)
        .join(ArchiveSourceRow, ArchiveSourceRow.incident_id == IncidentRow.id)
        .where(ArchiveSourceRow.source == name)
    )
    key = session.scalars(query).first()
    if key is not None and session.scalars(visible_to(query, actor, archived=None)).first() is None:
        raise ArchiveError(name, 0, HIDDEN)
    return key


def _free_key(session: Session, base: str) -> str:
    taken = set(
        session.scalars(
            select(IncidentRow.key).where(IncidentRow.key.startswith(base, autoescape=True))
        )
    )
    if base not in taken:
        return base
    return next(f"{base}-{n}" for n in range(2, len(taken) + 3) if f"{base}-{n}" not in taken)


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
    for index, report in enumerate(reports, start=1):
        try:
            read, postmortem, flags = _read(report, zone=zone, layout=layout, headings=headings)
            key = _existing_key(session, report.name, actor)
        except ArchiveError as error:
            outcomes.append(
                FileOutcome(
                    report.name,
                    "refused",
                    reason=error.message
                    if not error.line
                    else f"line {error.line}: {error.message}",
                )
            )
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
            progress(index, total, report.name)
    return outcomes


def _store(
    session: Session,
    report: ReportInput,
    read: ArchiveReport,
    postmortem: Postmortem,
    flags: tuple[Flag, ...],
    *,
    author: str,
    actor: Actor | None,
    now: dt.datetime,
) -> FileOutcome:
    digest = hashlib.sha256(report.data or b"").hexdigest()
    stored_flags = [{"line": f.line, "code": f.code, "message": f.message} for f in flags]
    key = _existing_key(session, report.name, actor)
    if key is None:
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
        )
        incident_id = session.scalars(
            select(IncidentRow.id).where(IncidentRow.key == postmortem.key)
        ).one()
        session.add(
            ArchiveSourceRow(
                source=report.name,
                incident_id=incident_id,
                digest=digest,
                flags=stored_flags,
                imported_at=now,
            )
        )
        outcome = "created"
    else:
        before = get_postmortem(session, key=key, actor=actor)
        replacement = _with_key(postmortem, key)
        stored = update_postmortem(
            session,
            key=key,
            change=lambda current: _as_update(current, replacement),
            author=author,
            action="import-archive",
            now=now,
            actor=actor,
        )
        row = session.scalars(
            select(ArchiveSourceRow).where(ArchiveSourceRow.source == report.name)
        ).one()
        row.digest, row.flags, row.imported_at = digest, stored_flags, now
        outcome = "unchanged" if stored.version == before.version else "updated"
    session.flush()
    return FileOutcome(
        report.name,
        outcome,
        stored.postmortem.key,
        stored.postmortem.title,
        flags=flags,
        lines_by_part=read.lines_by_part(),
    )


def _with_key(postmortem: Postmortem, key: str) -> Postmortem:
    return dataclasses.replace(postmortem, key=key)


def _as_update(current: Postmortem, replacement: Postmortem) -> Postmortem:
    """The re-imported report, keeping the review status the team has moved it to."""
    return dataclasses.replace(
        replacement, review_status=current.review_status, visibility=current.visibility
    )


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
    leaves nothing behind, and the others still import."""
    now = now or dt.datetime.now(dt.UTC)
    outcomes = []
    for index, report in enumerate(reports, start=1):
        try:
            read, postmortem, flags = _read(report, zone=zone, layout=layout, headings=headings)
            with session.begin_nested():
                outcomes.append(
                    _store(
                        session,
                        report,
                        read,
                        postmortem,
                        flags,
                        author=author,
                        actor=actor,
                        now=now,
                    )
                )
        except ArchiveError as error:
            reason = f"line {error.line}: {error.message}" if error.line else error.message
            outcomes.append(FileOutcome(report.name, "refused", reason=reason))
        except (HindsightError, InvalidPostmortemError, ValueError) as error:
            outcomes.append(FileOutcome(report.name, "refused", reason=str(error)))
        if progress:
            progress(index, total, report.name)
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
