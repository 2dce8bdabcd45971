"""Similar earlier incidents ("Seen before") and the possible recurrence among them.

Steps of `find_similar`: check the reader may see the incident; take its profile (the stored
vector if current, else one made now); take this process's similarity index of every stored
profile (services/similar_index.py, reloaded when the database has changed); the pool is every
indexed incident that happened before this one and that the reader may see; rank it with
analysis/similarity.py (reciprocal rank fusion); check the best ones against the database
(still there, still visible); the best match whose recurrence score reaches the threshold,
if it is neither linked nor dismissed, becomes the recurrence suggestion.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import numpy.typing as npt
from sqlalchemy import Select, literal, select, union_all
from sqlalchemy.orm import Session

from hindsight.analysis.recurrence import summarize_actions
from hindsight.analysis.similarity import (
    RECURRENCE_THRESHOLD,
    Match,
    Profile,
    Why,
    explain_match,
    is_recurrence,
    make_profile,
    profile_text,
    rank,
)
from hindsight.domain.access import Actor
from hindsight.domain.actions import ActionItem
from hindsight.services.embeddings import Embedder, decode_vector
from hindsight.services.incidents import get_postmortem, visible_incident_id, visible_to
from hindsight.services.profiles import DEFAULT, EmbedderChoice, happened_at, resolve
from hindsight.services.similar_index import LoadedIndex, current_index, happened
from hindsight.storage.models import (
    IncidentLinkRow,
    IncidentProfileRow,
    IncidentRow,
    RecurrenceDismissalRow,
    ServiceRow,
    TagRow,
)
from hindsight.storage.repository import action_items_of
from hindsight.storage.visibility import member_of, sees_everything

# Matches ranked beyond the limit, in case the database hides some the index still has.
RECHECK_MARGIN = 10
NO_MODEL_NOTE = (
    "The embedding model is not available, so these are ranked by shared words and fields "
    "only (install the 'wordllama' package to rank by meaning too)."
)


@dataclass(frozen=True)
class SimilarIncident:
    """One earlier incident like this one, with its score (0..1) and why."""

    key: str
    title: str
    created_at: dt.datetime
    score: float
    lexical: float
    semantic: float | None
    structured: float
    why: Why
    linked: bool = False
    recurrence: float = 0.0  # the recurrence score (analysis/similarity.recurrence_score)


@dataclass(frozen=True)
class RecurrenceSuggestion:
    """'Possible recurrence of <title> (<date>)' and the state of its action items."""

    key: str
    title: str
    happened_at: dt.datetime  # impact started, else the first event, else created
    score: float
    action_items: tuple[ActionItem, ...]
    actions_summary: str


@dataclass(frozen=True)
class LinkedIncident:
    """An incident linked to this one as a recurrence; `earlier`: it came first."""

    key: str
    title: str
    created_at: dt.datetime
    earlier: bool


@dataclass(frozen=True)
class SimilarIncidents:
    """What "Seen before" shows: `mode` is 'hybrid' or 'lexical' (then `note` says why)."""

    items: list[SimilarIncident]
    mode: str
    note: str = ""
    suggestion: RecurrenceSuggestion | None = None
    links: list[LinkedIncident] = field(default_factory=list)


def _eligible(
    session: Session, loaded: LoadedIndex, query: Profile, actor: Actor | None
) -> npt.NDArray[np.bool_]:
    """Indexed incidents that happened before `query` and that `actor` may see in a list:
    not archived; restricted ones only for their members (and those who see everything)."""
    eligible = loaded.index.earlier_than(query) & ~loaded.archived
    if not sees_everything(actor):
        assert actor is not None
        members = np.array(list(session.scalars(member_of(actor))), dtype=np.int64)
        eligible &= ~loaded.restricted | np.isin(loaded.index.ids, members)
    return eligible


@dataclass(frozen=True)
class _Current:
    """What the database says now of a match: its key, title and creation time, and whether
    the reader's incident has dismissed it as a recurrence."""

    key: str
    title: str
    created_at: dt.datetime
    dismissed: bool


def _still_visible(
    session: Session, row_id: int, matches: Sequence[Match], actor: Actor | None
) -> dict[int, _Current]:
    """The matches `actor` may see now, from the database in one statement: the index may
    predate an archive, a deletion or a change of visibility (or of a title)."""
    dismissed = (
        select(RecurrenceDismissalRow.id)
        .where(
            RecurrenceDismissalRow.incident_id == row_id,
            RecurrenceDismissalRow.other_id == IncidentRow.id,
        )
        .exists()
    )
    columns = cast(
        Select[Any],
        select(
            IncidentRow.id, IncidentRow.key, IncidentRow.title, IncidentRow.created_at, dismissed
        ),
    )
    query = visible_to(columns, actor).where(IncidentRow.id.in_([m.id for m in matches]))
    return {
        id_: _Current(key, title, at, bool(gone))
        for id_, key, title, at, gone in session.execute(query)
    }


def _links(session: Session, row_id: int, actor: Actor | None) -> list[LinkedIncident]:
    query = cast(
        Select[Any],
        select(IncidentRow.key, IncidentRow.title, IncidentRow.created_at, IncidentLinkRow.earlier)
        .join(IncidentLinkRow, IncidentLinkRow.other_id == IncidentRow.id)
        .where(IncidentLinkRow.incident_id == row_id)
        .order_by(IncidentRow.created_at),
    )
    return [
        LinkedIncident(key, title, at, earlier)
        for key, title, at, earlier in session.execute(visible_to(query, actor, archived=None))
    ]


def find_similar(
    session: Session,
    *,
    key: str,
    actor: Actor | None = None,
    limit: int = 5,
    embedder: EmbedderChoice = DEFAULT,
    threshold: float = RECURRENCE_THRESHOLD,
) -> SimilarIncidents:
    """The earlier incidents most like `key` that `actor` may see, best first, with why."""
    model = resolve(embedder)
    row_id = visible_incident_id(session, key=key, actor=actor)
    query = _query_profile(session, row_id, key, model)
    loaded = current_index(session, model)
    eligible = _eligible(session, loaded, query, actor)
    # A few more than asked for, in case the database hides some the index still has; only
    # those shown get their "why".
    ranking = rank(
        loaded.index,
        query,
        eligible,
        limit=limit + RECHECK_MARGIN,
        use_semantic=model is not None,
        explain=False,
    )
    visible = _still_visible(session, row_id, ranking.matches, actor)
    shown = [m for m in ranking.matches if m.id in visible][:limit]
    matches = [explain_match(loaded.index, ranking, query, m) for m in shown]
    links = _links(session, row_id, actor)
    linked = {link.key for link in links}
    items = [
        SimilarIncident(
            key=visible[m.id].key,
            title=visible[m.id].title,
            created_at=visible[m.id].created_at,
            score=round(m.score, 3),
            lexical=round(m.lexical, 3),
            semantic=None if m.semantic is None else round(m.semantic, 3),
            structured=round(m.structured, 3),
            why=m.why,
            linked=visible[m.id].key in linked,
            recurrence=round(m.recurrence, 3),
        )
        for m in matches
    ]
    dismissed = {m.id for m in shown if visible[m.id].dismissed}
    suggestion = _suggestion(session, loaded, matches, linked, dismissed, threshold)
    note = "" if model is not None else NO_MODEL_NOTE
    return SimilarIncidents(items, ranking.mode, note, suggestion, links)


def _suggestion(
    session: Session,
    loaded: LoadedIndex,
    matches: Sequence[Match],
    linked: set[str],
    dismissed: set[int],
    threshold: float,
) -> RecurrenceSuggestion | None:
    """The best match neither linked nor dismissed, if its recurrence score reaches
    `threshold` (the matches were checked visible to the reader)."""
    for match in matches:
        if match.key in linked or match.id in dismissed:
            continue
        if not is_recurrence(match, threshold):
            return None
        items = action_items_of(session, match.id)
        return RecurrenceSuggestion(
            key=match.key,
            title=match.title,
            happened_at=happened(loaded, match.position),
            score=round(match.recurrence, 3),
            action_items=items,
            actions_summary=summarize_actions(items),
        )
    return None


def _query_profile(session: Session, row_id: int, key: str, model: Embedder | None) -> Profile:
    """The incident's stored profile (kept current by every change in its transaction), or,
    without one (stored before migration 0011 and not reindexed), one made now."""
    stored = session.execute(
        select(
            IncidentRow.title,
            IncidentRow.created_at,
            IncidentProfileRow.terms,
            IncidentProfileRow.categories,
            IncidentProfileRow.model,
            IncidentProfileRow.vector,
            IncidentProfileRow.happened_at,
        )
        .join(IncidentProfileRow, IncidentProfileRow.incident_id == IncidentRow.id)
        .where(IncidentRow.id == row_id)
    ).one_or_none()
    if stored is None or (model is not None and stored.model != model.name):
        pm = get_postmortem(session, key=key).postmortem
        created = session.scalar(select(IncidentRow.created_at).where(IncidentRow.id == row_id))
        vector = model.embed([profile_text(pm)])[0] if model is not None else None
        assert created is not None
        return make_profile(
            pm, id=row_id, created_at=created, vector=vector, happened_at=happened_at(pm)
        )
    services, tags = _names_of(session, row_id)
    return Profile(
        id=row_id,
        key=key,
        title=stored.title,
        created_at=stored.created_at,
        terms=tuple(stored.terms.split()),
        services=frozenset(services),
        categories=frozenset(stored.categories),
        tags=frozenset(tags),
        vector=decode_vector(stored.vector) if model is not None else None,
        happened_at=stored.happened_at,
    )


def _names_of(session: Session, row_id: int) -> tuple[set[str], set[str]]:
    """The incident's services and tags, in one statement."""
    services = select(literal("service").label("kind"), ServiceRow.name).where(
        ServiceRow.incident_id == row_id
    )
    tags = select(literal("tag").label("kind"), TagRow.name).where(TagRow.incident_id == row_id)
    found: dict[str, set[str]] = {"service": set(), "tag": set()}
    for kind, name in session.execute(union_all(services, tags)):
        found[kind].add(name)
    return found["service"], found["tag"]


def similar_to_dict(result: SimilarIncidents) -> dict[str, Any]:
    """The JSON form of "Seen before" (the CLI's --json and the API give the same)."""
    suggestion = result.suggestion
    return {
        "mode": result.mode,
        "note": result.note,
        "items": [
            {
                "key": item.key,
                "title": item.title,
                "created_at": item.created_at.isoformat(),
                "score": item.score,
                "lexical": item.lexical,
                "semantic": item.semantic,
                "structured": item.structured,
                "recurrence": item.recurrence,
                "linked": item.linked,
                "why": {
                    "services": list(item.why.services),
                    "factor_categories": list(item.why.categories),
                    "tags": list(item.why.tags),
                    "terms": list(item.why.terms),
                    "sentence": item.why.sentence(),
                },
            }
            for item in result.items
        ],
        "recurrence": None
        if suggestion is None
        else {
            "key": suggestion.key,
            "title": suggestion.title,
            "happened_at": suggestion.happened_at.isoformat(),
            "score": suggestion.score,
            "actions_summary": suggestion.actions_summary,
            "action_items": [
                {"id": a.id, "title": a.title, "kind": a.kind.value, "status": a.status.value}
                for a in suggestion.action_items
            ],
        },
        "links": [
            {
                "key": link.key,
                "title": link.title,
                "created_at": link.created_at.isoformat(),
                "earlier": link.earlier,
            }
            for link in result.links
        ],
    }
