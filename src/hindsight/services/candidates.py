"""Root-cause candidates of an incident: rank its evidence (imported events still suggested or
accepted, and the timeline's own change events), and take one into the analysis as the trigger
or as a contributing factor, with its provenance, as a revision like any other edit."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from hindsight.analysis.candidates import (
    CandidateKind,
    Evidence,
    RootCauseCandidate,
    impact_start_of,
    rank_candidates,
)
from hindsight.domain.access import Actor, Role
from hindsight.domain.evidence import SuggestionState, signal_for_kind
from hindsight.domain.incidents import Postmortem
from hindsight.domain.rca import ContributingFactor, RootCauseAnalysis
from hindsight.domain.timeline import KeyMoment
from hindsight.errors import InvalidInputError, PermissionDeniedError
from hindsight.services.evidence import candidate_of, event_identity, live_rows
from hindsight.services.incidents import (
    StoredPostmortem,
    get_postmortem,
    update_postmortem,
    visible_incident_id,
)
from hindsight.storage.models import EvidenceRow

# The taxonomy category a contributing factor taken from a candidate starts with.
_CATEGORY = {
    CandidateKind.CHANGE: "change",
    CandidateKind.CAPACITY: "capacity",
    CandidateKind.LOG: "software",
    CandidateKind.ALERT: "monitoring",
}


@dataclass(frozen=True)
class CandidateReport:
    """The ranked candidates and the impact start they were ranked against."""

    impact_start: dt.datetime | None
    basis: str
    candidates: list[RootCauseCandidate]


def _evidence(session: Session, incident_id: int, postmortem: Postmortem) -> list[Evidence]:
    rows = list(
        session.scalars(
            select(EvidenceRow)
            .where(
                EvidenceRow.incident_id == incident_id,
                EvidenceRow.state.in_([SuggestionState.SUGGESTED, SuggestionState.ACCEPTED]),
            )
            .order_by(EvidenceRow.at, EvidenceRow.id)
        )
    )
    found: list[Evidence] = []
    imported: set[tuple[object, ...]] = set()
    for row in live_rows(rows, postmortem.timeline):
        candidate = candidate_of(row)
        imported.add(event_identity(candidate.event))
        found.append(Evidence(candidate.ref, candidate.event, candidate.signal, candidate.subject))
    for event in postmortem.timeline:
        if event_identity(event) not in imported:
            found.append(Evidence(f"timeline:{event.id}", event, signal_for_kind(event.kind)))
    return found


def root_cause_candidates(
    session: Session, *, key: str, actor: Actor | None = None
) -> CandidateReport:
    """The incident's likeliest triggers, best first, each with its explained score."""
    incident_id = visible_incident_id(session, key=key, actor=actor)
    postmortem = get_postmortem(session, key=key, actor=actor).postmortem
    evidence = _evidence(session, incident_id, postmortem)
    moments = postmortem.key_moments()
    start = impact_start_of({m.value: e.at for m, e in moments.items()}, evidence)
    if start is None:
        return CandidateReport(
            None, "no impact start: mark 'impact started' or 'detected', or import alerts", []
        )
    end = moments.get(KeyMoment.MITIGATED) or moments.get(KeyMoment.RESOLVED)
    ranked = rank_candidates(
        evidence,
        impact_start=start[0],
        impact_end=end.at if end else None,
        services=postmortem.services,
    )
    return CandidateReport(start[0], start[1], ranked)


def _describe(candidate: RootCauseCandidate) -> str:
    event = candidate.event
    where = "; ".join(str(p) for p in event.provenance) or event.source
    text = " ".join(event.text.split())[:300]
    return f"{text} ({event.at:%Y-%m-%d %H:%M} UTC, from {where})"


def taken_into(candidate: RootCauseCandidate, analysis: RootCauseAnalysis) -> str:
    """'trigger' or 'contributing factor' when `accept_candidate` took this candidate into
    `analysis` (its text is there as written then), else ''."""
    text = _describe(candidate)
    if analysis.trigger.strip() == text:
        return "trigger"
    if any(f.description == text for f in analysis.contributing_factors):
        return "contributing factor"
    return ""


def accept_candidate(
    session: Session,
    *,
    key: str,
    ref: str,
    as_: str,
    author: str,
    actor: Actor | None = None,
    category: str = "",
    now: dt.datetime | None = None,
) -> StoredPostmortem:
    """Take candidate `ref` into the analysis: `as_` 'trigger' sets the trigger (refused when
    one is written, so nobody's words are overwritten), 'factor' adds a contributing factor
    (category from the candidate's kind unless given). The text keeps the event's provenance."""
    if as_ not in ("trigger", "factor"):
        raise InvalidInputError(f"accept a candidate as 'trigger' or 'factor', not {as_!r}")
    if actor is not None and actor.role is Role.VIEWER:
        visible_incident_id(session, key=key, actor=actor)  # a hidden incident stays a 404
        raise PermissionDeniedError(
            "viewers cannot change postmortems; ask an admin for the editor role"
        )
    report = root_cause_candidates(session, key=key, actor=actor)
    chosen = next((c for c in report.candidates if c.ref == ref), None)
    if chosen is None:
        # Bad input, not a missing incident: a 404 here would tell the incident exists.
        raise InvalidInputError(
            f"no root-cause candidate '{ref}' in incident '{key}'; "
            f"`hindsight candidates {key}` lists them"
        )
    text = _describe(chosen)

    def change(before: Postmortem) -> Postmortem:
        analysis = before.analysis
        if as_ == "trigger":
            if analysis.trigger.strip() and analysis.trigger.strip() != text:
                raise InvalidInputError(
                    "the trigger is already written; edit it, or add this candidate as a "
                    "contributing factor"
                )
            return replace(before, analysis=replace(analysis, trigger=text))
        if any(f.description == text for f in analysis.contributing_factors):
            return before
        factor = ContributingFactor(category=category or _CATEGORY[chosen.kind], description=text)
        factors = (*analysis.contributing_factors, factor)
        return replace(before, analysis=replace(analysis, contributing_factors=factors))

    return update_postmortem(
        session,
        key=key,
        change=change,
        author=author,
        actor=actor,
        now=now,
        note=f"from root-cause candidate {ref} (score {chosen.score:.1f})",
    )


def report_json(report: CandidateReport) -> dict[str, object]:
    """The report as JSON for the API and `hindsight candidates --json`."""
    return {
        "impact_start": report.impact_start.isoformat() if report.impact_start else None,
        "impact_start_basis": report.basis,
        "candidates": [
            {
                "ref": c.ref,
                "rank": rank,
                "kind": c.kind.value,
                "score": c.score,
                "at": c.event.at.isoformat(),
                "text": c.event.text,
                "source": c.event.source,
                "provenance": [str(p) for p in c.event.provenance],
                "factors": [
                    {"name": f.name, "points": round(f.points, 3), "reason": f.reason}
                    for f in c.factors
                ],
                "explanation": c.explanation,
            }
            for rank, c in enumerate(report.candidates, start=1)
        ],
    }
