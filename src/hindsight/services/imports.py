"""Import evidence into an incident: run an importer, merge what it found with what is there,
and keep it as suggestions until people accept them into the timeline.

Rules, in the order they are applied to each imported event:
1. outside --since/--until → skipped;
2. the same record imported before (same kind and key) → skipped, so re-importing is a no-op;
   the same record twice in one import (a repeated delivery) → skipped as repeated;
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
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from hindsight.analysis.evidence import (
    Candidate,
    ImportWindow,
    Proposal,
    default_import_window,
    propose_key_moments,
    same_happening,
)
from hindsight.domain.access import Actor
from hindsight.domain.evidence import Evidence, SuggestionState, signal_for_kind
from hindsight.errors import PermissionDeniedError
from hindsight.importers.base import (
    EvidenceError,
    ImportOptions,
    NoProgress,
    Progress,
    Source,
)
from hindsight.importers.registry import read_all
from hindsight.services.evidence import (
    SuggestedEvent,
    candidate_of,
    live_rows,
    provenance_json,
    require_importer_rights,
    suggested_event,
)
from hindsight.services.incidents import (
    get_postmortem,
    utc_now,
    visible_incident_id,
)
from hindsight.storage.models import EvidenceImportRow, EvidenceRow, HookTokenRow, IncidentRow

HOOK_PREFIX = "hk_"


@dataclass(frozen=True)
class ImportSummary:
    """What an import did (or, for a preview, would do)."""

    kind: str
    origin: str
    added: list[SuggestedEvent]
    merged: int
    skipped: dict[str, int]
    proposals: list[Proposal] = field(default_factory=list)
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    far_outside: str = ""

    @property
    def skipped_total(self) -> int:
        """How many records were left out, for every reason."""
        return sum(self.skipped.values())


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
    found: list[Evidence] | None = None,
) -> ImportSummary:
    """Import `source` with the `kind` importer into incident `key` as suggestions.

    With `preview`, nothing is written; the summary says what would happen. `found` is what
    `read_evidence` read from `source` before (a job reads first, then takes the write lock).
    """
    incident_id = require_importer_rights(session, key, actor)
    if found is None:
        found = read_all(kind, source, options, progress or NoProgress())
    skipped: Counter[str] = Counter(options.skipped)
    rows = list(session.scalars(select(EvidenceRow).where(EvidenceRow.incident_id == incident_id)))
    known = {(row.kind, row.key) for row in rows}
    timeline = get_postmortem(session, key=key, actor=actor).postmortem.timeline
    pool = [(row, candidate_of(row)) for row in live_rows(rows, timeline)]
    manual = [
        Candidate(f"timeline:{i}", event, signal_for_kind(event.kind), "", "timeline")
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
            added.append(suggested_event(row))
    proposals = propose_key_moments(
        [c for _r, c in pool]
        + [Candidate(f"evidence:{s.id}", s.event, s.signal, s.subject, s.kind) for s in added]
    )
    return ImportSummary(
        kind,
        source.name,
        added,
        merged,
        dict(skipped),
        proposals,
        since=options.since,
        until=options.until,
        far_outside=options.far.warning(),
    )


def read_evidence(
    kind: str, source: Source, options: ImportOptions, progress: Progress
) -> list[Evidence]:
    """Everything the `kind` importer finds in `source`, for `import_evidence(found=...)`."""
    return read_all(kind, source, options, progress)


def import_window(session: Session, *, key: str, actor: Actor | None = None) -> ImportWindow | None:
    """The window an import into this incident uses unless the person gives one
    (`analysis.evidence.default_import_window`)."""
    timeline = get_postmortem(session, key=key, actor=actor).postmortem.timeline
    return default_import_window(timeline)


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
    seen: set[str] = set()
    for evidence in found:
        if (kind, evidence.key) in known:
            skipped["already imported"] += 1
            continue
        if evidence.key in seen:
            skipped["repeated within this import"] += 1
            continue
        seen.add(evidence.key)
        candidate = Candidate("new", evidence.event, evidence.signal, evidence.subject, kind)
        target = next((row for row, other in pool if same_happening(candidate, other)), None)
        row = _row(incident_id, batch, kind, evidence)
        if target is not None:
            row.state, row.merged_into = SuggestionState.MERGED.value, target.id
            if target.state == SuggestionState.SUGGESTED and not preview:
                target.provenance = [*target.provenance, *provenance_json(evidence.event)]
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
        provenance=provenance_json(event),
    )


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
    incident_id = require_importer_rights(session, key, actor)
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


def check_hook_token(session: Session, *, key: str, token: str) -> None:
    """Refuse a token that is not a live hook token of this incident (cheap: one indexed read,
    so the web layer runs it before reading a delivery's body)."""
    row = session.scalar(
        select(HookTokenRow).where(
            HookTokenRow.token_hash == _digest(token), HookTokenRow.revoked.is_(False)
        )
    )
    incident = session.scalar(select(IncidentRow.id).where(IncidentRow.key == key))
    if row is None or incident is None or row.incident_id != incident:
        raise PermissionDeniedError("unknown or revoked hook token for this incident")


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
    check_hook_token(session, key=key, token=token)
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
