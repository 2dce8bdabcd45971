"""Import evidence into an incident: run an importer, merge what it found with what is there,
and keep it as suggestions until people accept them into the timeline.

Rules, in the order they are applied to each imported event:
1. outside --since/--until → skipped;
2. the same record imported before (same kind and key) → skipped, so re-importing is a no-op;
3. the same happening already suggested by another tool (`analysis.evidence.same_happening`)
   → merged: the earlier suggestion gains this event's provenance;
4. the same happening already in the timeline → skipped ("already in the timeline");
5. otherwise → added as a suggestion.
An import is all-or-nothing: any unreadable record raises before anything is written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from hindsight.analysis.evidence import (
    Candidate,
    Proposal,
    propose_key_moments,
    same_happening,
)
from hindsight.domain.access import Actor, Role
from hindsight.domain.codec import InvalidPostmortemError, problems_from_validation_error
from hindsight.domain.evidence import Evidence, Signal, SuggestionState
from hindsight.domain.incidents import Postmortem
from hindsight.domain.timeline import EventKind, KeyMoment, Provenance, TimelineEvent
from hindsight.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from hindsight.importers.base import (
    EvidenceError,
    ImportOptions,
    NoProgress,
    Progress,
    Source,
)
from hindsight.importers.registry import IMPORTERS, read_all
from hindsight.services.incidents import (
    StoredPostmortem,
    get_postmortem,
    update_postmortem,
    utc_now,
    visible_incident_id,
)
from hindsight.storage.models import EvidenceImportRow, EvidenceRow, HookTokenRow, IncidentRow

HOOK_PREFIX = "hk_"


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


@dataclass(frozen=True)
class ImportSummary:
    """What an import did (or, for a preview, would do)."""

    kind: str
    origin: str
    added: list[SuggestedEvent]
    merged: int
    skipped: dict[str, int]
    proposals: list[Proposal] = field(default_factory=list)

    @property
    def skipped_total(self) -> int:
        """How many records were left out, for every reason."""
        return sum(self.skipped.values())


def _suggested(row: EvidenceRow) -> SuggestedEvent:
    return SuggestedEvent(
        id=row.id,
        kind=row.kind,
        state=SuggestionState(row.state),
        event=_event_of(row),
        signal=Signal(row.signal),
        subject=row.subject,
    )


def _event_of(row: EvidenceRow) -> TimelineEvent:
    return TimelineEvent(
        at=row.at,
        zone=row.zone,
        text=row.text,
        source=row.source,
        kind=EventKind(row.event_kind),
        actor=row.actor,
        provenance=tuple(Provenance(p["origin"], p.get("locator", "")) for p in row.provenance),
    )


def _provenance_json(event: TimelineEvent) -> list[dict[str, str]]:
    return [{"origin": p.origin, "locator": p.locator} for p in event.provenance]


def _require_importer_rights(session: Session, key: str, actor: Actor | None) -> int:
    incident_id = visible_incident_id(session, key=key, actor=actor)
    if actor is not None and actor.role is Role.VIEWER:
        raise PermissionDeniedError(
            "viewers cannot import evidence; ask an admin for the editor role"
        )
    status = session.scalar(select(IncidentRow.review_status).where(IncidentRow.id == incident_id))
    if status == "published":
        raise PermissionDeniedError("this postmortem is published; reopen it to import evidence")
    return incident_id


def import_evidence(
    session: Session,
    *,
    key: str,
    kind: str,
    source: Source,
    options: ImportOptions,
    author: str,
    actor: Actor | None = None,
    progress: Progress | None = None,
    preview: bool = False,
    now: dt.datetime | None = None,
) -> ImportSummary:
    """Import `source` with the `kind` importer into incident `key` as suggestions.

    With `preview`, nothing is written; the summary says what would happen.
    """
    incident_id = _require_importer_rights(session, key, actor)
    found = read_all(kind, source, options, progress or NoProgress())
    skipped: Counter[str] = Counter(options.skipped)
    rows = list(session.scalars(select(EvidenceRow).where(EvidenceRow.incident_id == incident_id)))
    known = {(row.kind, row.key) for row in rows}
    pool = [
        (row, _candidate(row))
        for row in rows
        if row.state in (SuggestionState.SUGGESTED, SuggestionState.ACCEPTED)
    ]
    timeline = get_postmortem(session, key=key, actor=actor).postmortem.timeline
    manual = [
        Candidate(f"timeline:{i}", event, _signal_of(event), "", "timeline")
        for i, event in enumerate(timeline)
    ]
    batch = EvidenceImportRow(
        incident_id=incident_id,
        kind=kind,
        origin=source.name[:1000],
        author=author,
        at=now or utc_now(),
        added=0,
        merged=0,
        skipped={},
    )
    if not preview:
        session.add(batch)
        session.flush()
    new_rows, merged = _merge(
        found, kind, known, pool, manual, batch, skipped, incident_id=incident_id, preview=preview
    )
    if not preview:
        session.add_all(new_rows)
        session.flush()
        batch.added = sum(1 for r in new_rows if r.state == SuggestionState.SUGGESTED)
        batch.merged, batch.skipped = merged, dict(skipped)
    added: list[SuggestedEvent] = []
    for index, row in enumerate(new_rows):
        if row.state == SuggestionState.SUGGESTED:
            if preview:
                row.id = -(index + 1)
            added.append(_suggested(row))
    proposals = propose_key_moments(
        [c for _r, c in pool]
        + [Candidate(f"evidence:{s.id}", s.event, s.signal, s.subject, s.kind) for s in added]
    )
    return ImportSummary(kind, source.name, added, merged, dict(skipped), proposals)


def _merge(
    found: list[Evidence],
    kind: str,
    known: set[tuple[str, str]],
    pool: list[tuple[EvidenceRow, Candidate]],
    manual: list[Candidate],
    batch: EvidenceImportRow,
    skipped: Counter[str],
    *,
    incident_id: int,
    preview: bool,
) -> tuple[list[EvidenceRow], int]:
    """Rules 2-5 of the module docstring: the rows to store, and how many were merged."""
    merged = 0
    new_rows: list[EvidenceRow] = []
    for evidence in found:
        if (kind, evidence.key) in known:
            skipped["already imported"] += 1
            continue
        known.add((kind, evidence.key))
        candidate = Candidate("new", evidence.event, evidence.signal, evidence.subject, kind)
        target = next((row for row, other in pool if same_happening(candidate, other)), None)
        row = _row(incident_id, batch, kind, evidence)
        if target is not None:
            row.state, row.merged_into = SuggestionState.MERGED.value, target.id
            if target.state == SuggestionState.SUGGESTED and not preview:
                target.provenance = [*target.provenance, *_provenance_json(evidence.event)]
            merged += 1
        elif any(same_happening(candidate, m) for m in manual):
            row.state = SuggestionState.MERGED.value
            skipped["already in the timeline"] += 1
        else:
            pool.append((row, candidate))
        new_rows.append(row)
    return new_rows, merged


def _row(incident_id: int, batch: EvidenceImportRow, kind: str, evidence: Evidence) -> EvidenceRow:
    event = evidence.event
    return EvidenceRow(
        incident_id=incident_id,
        import_id=batch.id,
        kind=kind,
        key=evidence.key,
        state=SuggestionState.SUGGESTED.value,
        merged_into=None,
        subject=evidence.subject,
        signal=evidence.signal.value,
        at=event.at,
        zone=event.zone,
        text=event.text,
        event_kind=event.kind.value,
        actor=event.actor,
        source=event.source,
        provenance=_provenance_json(event),
    )


def _candidate(row: EvidenceRow) -> Candidate:
    return Candidate(
        f"evidence:{row.id}", _event_of(row), Signal(row.signal), row.subject, row.kind
    )


_KIND_SIGNALS = {
    EventKind.ALERT: Signal.ALERT_FIRING,
    EventKind.PAGE: Signal.PAGED,
    EventKind.ACKNOWLEDGEMENT: Signal.ACKNOWLEDGED,
    EventKind.ESCALATION: Signal.ESCALATED,
    EventKind.RESOLUTION: Signal.INCIDENT_RESOLVED,
    EventKind.DEPLOY: Signal.CHANGE,
    EventKind.CHANGE: Signal.CHANGE,
}


def _signal_of(event: TimelineEvent) -> Signal:
    return _KIND_SIGNALS.get(event.kind, Signal.NOTE)


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
    return [_suggested(row) for row in rows]


def evidence_proposals(session: Session, *, key: str, actor: Actor | None = None) -> list[Proposal]:
    """Key-moment proposals from the suggested and accepted evidence."""
    incident_id = visible_incident_id(session, key=key, actor=actor)
    rows = session.scalars(
        select(EvidenceRow).where(
            EvidenceRow.incident_id == incident_id,
            EvidenceRow.state.in_([SuggestionState.SUGGESTED, SuggestionState.ACCEPTED]),
        )
    )
    return propose_key_moments([_candidate(row) for row in rows])


def _pick_rows(session: Session, incident_id: int, ids: Iterable[int] | None) -> list[EvidenceRow]:
    query = select(EvidenceRow).where(
        EvidenceRow.incident_id == incident_id, EvidenceRow.state == SuggestionState.SUGGESTED
    )
    if ids is not None:
        wanted = set(ids)
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
    events = [replace(_event_of(row), key_moment=moments.get(row.id)) for row in rows]

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
    incident_id = _require_importer_rights(session, key, actor)
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
    row = session.get(EvidenceRow, evidence_id)
    if row is None or row.incident_id != incident_id:
        raise NotFoundError(f"no imported event with id {evidence_id} in this incident")
    if row.state == SuggestionState.SUGGESTED:
        return accept_evidence(
            session, key=key, ids=[row.id], author=author, actor=actor, moments={row.id: moment}
        )[0]
    event = _event_of(row)

    def change(postmortem: Postmortem) -> Postmortem:
        timeline = []
        found = False
        for item in postmortem.timeline:
            same = not found and item.at == event.at and item.text == event.text
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
        note=f"{moment.value} from evidence",
    )


def _checked(build: Callable[[], Postmortem]) -> Postmortem:
    """Build a changed postmortem; a rule it breaks becomes a located error, not a traceback."""
    try:
        return build()
    except ValidationError as error:
        raise InvalidPostmortemError(problems_from_validation_error(error)) from None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_hook_token(
    session: Session,
    *,
    key: str,
    author: str,
    actor: Actor | None = None,
    now: dt.datetime | None = None,
) -> str:
    """A new secret for posting alerts into this incident (shown once; older ones revoked)."""
    incident_id = _require_importer_rights(session, key, actor)
    for row in session.scalars(select(HookTokenRow).where(HookTokenRow.incident_id == incident_id)):
        row.revoked = True
    token = HOOK_PREFIX + secrets.token_urlsafe(24)
    session.add(
        HookTokenRow(
            incident_id=incident_id,
            token_hash=_digest(token),
            prefix=token[:8],
            created_by=author,
            created_at=now or utc_now(),
            revoked=False,
        )
    )
    session.flush()
    return token


def hook_token_prefix(session: Session, *, key: str, actor: Actor | None = None) -> str | None:
    """The start of the incident's live hook token, if it has one."""
    incident_id = visible_incident_id(session, key=key, actor=actor)
    return session.scalar(
        select(HookTokenRow.prefix).where(
            HookTokenRow.incident_id == incident_id, HookTokenRow.revoked.is_(False)
        )
    )


def receive_hook(
    session: Session,
    *,
    key: str,
    token: str,
    kind: str,
    body: bytes,
    now: dt.datetime | None = None,
) -> ImportSummary:
    """A live webhook delivery (Alertmanager): checked against the incident's hook token,
    then imported like a file. Deliveries repeat; the keys make that harmless."""
    row = session.scalar(
        select(HookTokenRow).where(
            HookTokenRow.token_hash == _digest(token), HookTokenRow.revoked.is_(False)
        )
    )
    incident = session.scalar(select(IncidentRow.id).where(IncidentRow.key == key))
    if row is None or incident is None or row.incident_id != incident:
        raise PermissionDeniedError("unknown or revoked hook token for this incident")
    try:
        return import_evidence(
            session,
            key=key,
            kind=kind,
            source=Source.from_bytes(f"{kind} webhook", body),
            options=ImportOptions(),
            author=f"{kind} webhook",
            now=now,
        )
    except EvidenceError as error:
        if "no " in str(error) and "events found" in str(error):
            return ImportSummary(kind, f"{kind} webhook", [], 0, {"no events": 1})
        raise
