"""Suggested events after an import: list them, accept them into the timeline (one revision),
dismiss them, and mark the key moments the evidence proposes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from hindsight.analysis.evidence import (
    Candidate,
    Proposal,
    propose_key_moments,
)
from hindsight.analysis.metrics import format_duration
from hindsight.domain.access import Actor, Role
from hindsight.domain.codec import InvalidPostmortemError, problems_from_validation_error
from hindsight.domain.evidence import Signal, SuggestionState
from hindsight.domain.incidents import IncidentStatus, Postmortem
from hindsight.domain.timeline import EventKind, KeyMoment, Provenance, TimelineEvent
from hindsight.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from hindsight.importers.registry import IMPORTERS
from hindsight.services.incidents import (
    StoredPostmortem,
    get_postmortem,
    update_postmortem,
    visible_incident_id,
)
from hindsight.storage.models import EvidenceRow, IncidentRow


@dataclass(frozen=True)
class SuggestedEvent:
    """An imported event as people review it."""

    id: int
    kind: str
    state: SuggestionState
    event: TimelineEvent
    signal: Signal
    subject: str

    @property
    def icon(self) -> str:
        """The importer's icon, for the timeline."""
        importer = IMPORTERS.get(self.kind)
        return importer.icon if importer else "•"


def suggested_event(row: EvidenceRow) -> SuggestedEvent:
    return SuggestedEvent(
        id=row.id,
        kind=row.kind,
        state=SuggestionState(row.state),
        event=event_of(row),
        signal=Signal(row.signal),
        subject=row.subject,
    )


def event_of(row: EvidenceRow) -> TimelineEvent:
    return TimelineEvent(
        at=row.at,
        zone=row.zone,
        text=row.text,
        source=row.source,
        kind=EventKind(row.event_kind),
        actor=row.actor,
        provenance=tuple(Provenance(p["origin"], p.get("locator", "")) for p in row.provenance),
    )


def provenance_json(event: TimelineEvent) -> list[dict[str, str]]:
    return [{"origin": p.origin, "locator": p.locator} for p in event.provenance]


def require_importer_rights(session: Session, key: str, actor: Actor | None) -> int:
    incident_id = visible_incident_id(session, key=key, actor=actor)
    if actor is not None and actor.role is Role.VIEWER:
        raise PermissionDeniedError(
            "viewers cannot import evidence; ask an admin for the editor role"
        )
    status = session.scalar(select(IncidentRow.review_status).where(IncidentRow.id == incident_id))
    if status == "published":
        raise PermissionDeniedError("this postmortem is published; reopen it to import evidence")
    return incident_id


def candidate_of(row: EvidenceRow) -> Candidate:
    return Candidate(f"evidence:{row.id}", event_of(row), Signal(row.signal), row.subject, row.kind)


def list_evidence(
    session: Session,
    *,
    key: str,
    actor: Actor | None = None,
    states: Sequence[SuggestionState] = (SuggestionState.SUGGESTED,),
) -> list[SuggestedEvent]:
    """The incident's imported events in these states, in time order."""
    incident_id = visible_incident_id(session, key=key, actor=actor)
    rows = session.scalars(
        select(EvidenceRow)
        .where(
            EvidenceRow.incident_id == incident_id, EvidenceRow.state.in_([s.value for s in states])
        )
        .order_by(EvidenceRow.at, EvidenceRow.id)
    )
    return [suggested_event(row) for row in rows]


def event_identity(event: TimelineEvent) -> tuple[object, ...]:
    """What tells a timeline event apart, to find the one accepted from an imported row.

    Time and text today: timeline events carry no id of their own yet. When they do, this
    returns the id, and everything that matches accepted evidence to the timeline follows."""
    return (event.at, event.text)


def live_rows(rows: Iterable[EvidenceRow], timeline: Sequence[TimelineEvent]) -> list[EvidenceRow]:
    """The suggested rows, and the accepted rows whose event is still in the timeline: an
    event removed from the timeline takes its proposals (and its merges) with it."""
    present = {event_identity(item) for item in timeline}
    return [
        row
        for row in rows
        if row.state == SuggestionState.SUGGESTED
        or (row.state == SuggestionState.ACCEPTED and event_identity(event_of(row)) in present)
    ]


def evidence_proposals(
    session: Session,
    *,
    key: str,
    actor: Actor | None = None,
    timeline: Sequence[TimelineEvent] | None = None,
) -> list[Proposal]:
    """Key-moment proposals from the suggested evidence and the accepted evidence still in the
    timeline (`timeline`, when the caller has it; read otherwise)."""
    incident_id = visible_incident_id(session, key=key, actor=actor)
    rows = list(
        session.scalars(
            select(EvidenceRow).where(
                EvidenceRow.incident_id == incident_id,
                EvidenceRow.state.in_([SuggestionState.SUGGESTED, SuggestionState.ACCEPTED]),
            )
        )
    )
    if timeline is None and any(row.state == SuggestionState.ACCEPTED for row in rows):
        timeline = get_postmortem(session, key=key, actor=actor).postmortem.timeline
    return propose_key_moments([candidate_of(row) for row in live_rows(rows, timeline or ())])


MAX_ID = 2**31 - 1  # the largest id the evidence table can hold (a 32-bit integer)


def _unknown_ids(ids: Iterable[int]) -> set[int]:
    """Ids no row can have; asking the database about them fails on PostgreSQL and SQLite."""
    return {value for value in ids if not 1 <= value <= MAX_ID}


def _pick_rows(session: Session, incident_id: int, ids: Iterable[int] | None) -> list[EvidenceRow]:
    query = select(EvidenceRow).where(
        EvidenceRow.incident_id == incident_id, EvidenceRow.state == SuggestionState.SUGGESTED
    )
    if ids is not None:
        wanted = set(ids)
        if impossible := _unknown_ids(wanted):
            raise NotFoundError(f"no suggested event with id {min(impossible)} in incident")
        query = query.where(EvidenceRow.id.in_(wanted))
        rows = list(session.scalars(query))
        missing = wanted - {row.id for row in rows}
        if missing:
            raise NotFoundError(
                f"no suggested event with id {min(missing)} in incident; it may "
                "have been accepted or dismissed already"
            )
        return rows
    return list(session.scalars(query))


def accept_evidence(
    session: Session,
    *,
    key: str,
    ids: Iterable[int] | None,
    author: str,
    actor: Actor | None = None,
    moments: dict[int, KeyMoment] | None = None,
    now: dt.datetime | None = None,
) -> tuple[StoredPostmortem, int]:
    """Copy suggested events (`ids`, or all with None) into the timeline as one revision;
    `moments` marks some of them as key moments (replacing earlier marks of that moment)."""
    incident_id = visible_incident_id(session, key=key, actor=actor)
    rows = _pick_rows(session, incident_id, ids)
    moments = moments or {}
    if not rows and not moments:
        raise InvalidInputError("there are no suggested events to accept")
    events = [replace(event_of(row), key_moment=moments.get(row.id)) for row in rows]

    def change(postmortem: Postmortem) -> Postmortem:
        marked = {m for m in moments.values()}
        kept = tuple(
            replace(e, key_moment=None) if e.key_moment in marked else e
            for e in postmortem.timeline
        )
        return _checked(lambda: replace(postmortem, timeline=kept + tuple(events)))

    stored = update_postmortem(
        session,
        key=key,
        change=change,
        author=author,
        actor=actor,
        now=now,
        action="accept evidence",
        note=f"accepted {len(rows)} imported event{'s' if len(rows) != 1 else ''}",
    )
    for row in rows:
        row.state = SuggestionState.ACCEPTED.value
    session.flush()
    return stored, len(rows)


def dismiss_evidence(
    session: Session, *, key: str, ids: Iterable[int] | None, actor: Actor | None = None
) -> int:
    """Set suggested events aside; a re-import will not bring them back."""
    incident_id = require_importer_rights(session, key, actor)
    rows = _pick_rows(session, incident_id, ids)
    for row in rows:
        row.state = SuggestionState.DISMISSED.value
    session.flush()
    return len(rows)


def apply_proposal(
    session: Session,
    *,
    key: str,
    moment: KeyMoment,
    evidence_id: int,
    author: str,
    actor: Actor | None = None,
) -> StoredPostmortem:
    """Mark a proposed key moment: accept its event if still suggested, and mark it."""
    incident_id = visible_incident_id(session, key=key, actor=actor)
    row = None if _unknown_ids([evidence_id]) else session.get(EvidenceRow, evidence_id)
    if row is None or row.incident_id != incident_id:
        raise NotFoundError(f"no imported event with id {evidence_id} in this incident")
    if row.state == SuggestionState.SUGGESTED:
        return accept_evidence(
            session, key=key, ids=[row.id], author=author, actor=actor, moments={row.id: moment}
        )[0]
    wanted = event_identity(event_of(row))
    note = _mark_note(get_postmortem(session, key=key, actor=actor).postmortem, moment, row.at)

    def change(postmortem: Postmortem) -> Postmortem:
        if moment is KeyMoment.RESOLVED and postmortem.status != IncidentStatus.RESOLVED:
            postmortem = replace(postmortem, status=IncidentStatus.RESOLVED)
        timeline = []
        found = False
        for item in postmortem.timeline:
            same = not found and event_identity(item) == wanted
            found = found or same
            mark = moment if same else (None if item.key_moment == moment else item.key_moment)
            timeline.append(replace(item, key_moment=mark))
        if not found:
            raise NotFoundError(
                "that event is no longer in the timeline; mark the moment on the timeline instead"
            )
        return _checked(lambda: replace(postmortem, timeline=tuple(timeline)))

    return update_postmortem(
        session,
        key=key,
        change=change,
        author=author,
        actor=actor,
        action="mark key moment",
        note=note,
    )


def _mark_note(postmortem: Postmortem, moment: KeyMoment, at: dt.datetime) -> str:
    """What marking says it does: the moment it replaces (and by how much it moves), and the
    incident status it sets when the moment is 'resolved'."""
    note = f"{moment.value} from evidence"
    current = postmortem.key_moments().get(moment)
    if current is not None and current.at != at:
        shift = at - current.at
        direction = "later" if shift > dt.timedelta(0) else "earlier"
        moved = format_duration(abs(shift))
        note += (
            f", replacing '{current.text[:80]}' at {current.at:%Y-%m-%d %H:%M} UTC "
            f"(moved {moved} {direction})"
        )
    if moment is KeyMoment.RESOLVED and postmortem.status != IncidentStatus.RESOLVED:
        note += f"; incident status {postmortem.status.value} → resolved"
    return note


def _checked(build: Callable[[], Postmortem]) -> Postmortem:
    """Build a changed postmortem; a rule it breaks becomes a located error, not a traceback."""
    try:
        return build()
    except ValidationError as error:
        raise InvalidPostmortemError(problems_from_validation_error(error)) from None
