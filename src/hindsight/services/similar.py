"""Similar earlier incidents ("Seen before") and the possible recurrence among them.

Steps of `find_similar`: check the reader may see the incident; take its profile (the stored
one if current, else computed now); gather a bounded pool of earlier incidents the reader may
see (those sharing a service or tag, and the most recent ones), with their stored profiles;
rank the pool with analysis/similarity.py; the best match above the recurrence threshold that
is neither linked nor dismissed becomes the recurrence suggestion.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from hindsight.analysis.recurrence import summarize_actions
from hindsight.analysis.similarity import (
    RECURRENCE_THRESHOLD,
    Corpus,
    Profile,
    Vector,
    Why,
    is_recurrence,
    make_profile,
    profile_text,
    score_candidates,
)
from hindsight.domain.access import Actor
from hindsight.domain.actions import ActionItem
from hindsight.domain.incidents import Postmortem
from hindsight.domain.timeline import KeyMoment
from hindsight.services.embeddings import Embedder, decode_vector
from hindsight.services.incidents import get_postmortem, visible_incident_id, visible_to
from hindsight.services.profiles import DEFAULT, EmbedderChoice, resolve
from hindsight.storage.models import (
    IncidentLinkRow,
    IncidentProfileRow,
    IncidentRow,
    RecurrenceDismissalRow,
    ServiceRow,
    TagRow,
)
from hindsight.storage.search import match_ids

# How many earlier incidents are scored at most: those sharing a service or tag first, then
# the most recent. Keeps a page's cost flat however many incidents there are.
POOL_SHARED = 200
POOL_RECENT = 100
# And the best lexical matches of the whole archive (the full-text index, storage/search/),
# searched for the incident's most frequent words, so an old incident with no shared service
# or tag is still found.
POOL_LEXICAL = 50
LEXICAL_QUERY_WORDS = 8
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


def _earlier(row_id: int, created_at: dt.datetime, actor: Actor | None) -> Select[Any]:
    return visible_to(select(IncidentRow.id), actor).where(
        IncidentRow.id != row_id, IncidentRow.created_at <= created_at
    )


def _pool_ids(
    session: Session, row_id: int, created_at: dt.datetime, actor: Actor | None
) -> set[int]:
    """Earlier incidents `actor` may see: sharing a service or tag, then the most recent.

    Sharing is read from the service and tag indexes alone, newest row id first (ids grow with
    creation), before visibility and time narrow that short list: ordering every incident that
    shares a common service by its creation time would cost a scan of them at 100,000."""
    earlier = _earlier(row_id, created_at, actor)
    shared: set[int] = set()
    for table in (ServiceRow, TagRow):
        names = list(session.scalars(select(table.name).where(table.incident_id == row_id)))
        if names:
            query = (
                select(table.incident_id)
                .where(table.name.in_(names), table.incident_id != row_id)
                .order_by(table.incident_id.desc())
                .limit(POOL_SHARED * 2)
            )
            shared.update(session.scalars(query))
    order = (IncidentRow.created_at.desc(), IncidentRow.id.desc())
    ids: set[int] = set()
    if shared:
        narrowed = earlier.where(IncidentRow.id.in_(shared)).order_by(*order).limit(POOL_SHARED)
        ids.update(session.scalars(narrowed))
    ids.update(session.scalars(earlier.order_by(*order).limit(POOL_RECENT)))
    return ids


def _lexical_ids(
    session: Session,
    query: Profile,
    pool: Sequence[Profile],
    created_at: dt.datetime,
    actor: Actor | None,
    known: set[int],
) -> set[int]:
    """The best full-text matches of the whole archive for the query's most telling words
    (highest tf-idf in the pool already gathered): rare words match few incidents, so the
    index answers fast and the matches are the ones that share what is particular."""
    words = list(Corpus([query, *pool]).telling_terms(query.terms, LEXICAL_QUERY_WORDS))
    found = match_ids(
        session, " ".join(words), actor=actor, limit=POOL_LEXICAL, exclude_ids=[query.id]
    )
    new = [incident_id for incident_id, _ in found if incident_id not in known]
    if not new:
        return set()
    # The index knows nothing of "earlier": the same visibility-and-time query keeps those.
    lexical = _earlier(query.id, created_at, actor).where(IncidentRow.id.in_(new))
    return set(session.scalars(lexical))


def _names(
    session: Session, table: type[ServiceRow] | type[TagRow], ids: set[int]
) -> dict[int, set[str]]:
    found: dict[int, set[str]] = defaultdict(set)
    for incident_id, name in session.execute(
        select(table.incident_id, table.name).where(table.incident_id.in_(ids))
    ):
        found[incident_id].add(name)
    return found


def _profiles(session: Session, ids: set[int], model: Embedder | None) -> list[Profile]:
    """Stored profiles of `ids`; a vector of another model than ours is not compared."""
    if not ids:
        return []
    services = _names(session, ServiceRow, ids)
    tags = _names(session, TagRow, ids)
    rows = session.execute(
        select(
            IncidentRow.id,
            IncidentRow.key,
            IncidentRow.title,
            IncidentRow.created_at,
            IncidentProfileRow.terms,
            IncidentProfileRow.categories,
            IncidentProfileRow.model,
            IncidentProfileRow.vector,
        )
        .join(IncidentProfileRow, IncidentProfileRow.incident_id == IncidentRow.id)
        .where(IncidentRow.id.in_(ids))
    )
    return [
        Profile(
            id=id_,
            key=key,
            title=title,
            created_at=created_at,
            terms=tuple(terms.split()),
            services=frozenset(services.get(id_, ())),
            categories=frozenset(categories),
            tags=frozenset(tags.get(id_, ())),
            vector=decode_vector(vector) if model is not None and name == model.name else None,
        )
        for id_, key, title, created_at, terms, categories, name, vector in rows
    ]


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


def _dismissed(session: Session, row_id: int) -> set[int]:
    query = select(RecurrenceDismissalRow.other_id).where(
        RecurrenceDismissalRow.incident_id == row_id
    )
    return set(session.scalars(query))


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
    stored = get_postmortem(session, key=key, actor=actor)
    vector = _own_vector(session, row_id, stored.postmortem, model)
    query = make_profile(stored.postmortem, id=row_id, created_at=stored.created_at, vector=vector)
    pool = _pool_ids(session, row_id, stored.created_at, actor)
    candidates = _profiles(session, pool, model)
    extra = _lexical_ids(session, query, candidates, stored.created_at, actor, pool)
    candidates += _profiles(session, extra, model)
    ranking = score_candidates(
        query,
        candidates,
        corpus=Corpus([query, *candidates]),
        limit=limit,
        use_semantic=model is not None,
    )
    links = _links(session, row_id, actor)
    linked = {link.key for link in links}
    items = [
        SimilarIncident(
            key=m.profile.key,
            title=m.profile.title,
            created_at=m.profile.created_at,
            score=round(m.score, 3),
            lexical=round(m.lexical, 3),
            semantic=None if m.semantic is None else round(m.semantic, 3),
            structured=round(m.structured, 3),
            why=m.why,
            linked=m.profile.key in linked,
        )
        for m in ranking.matches
    ]
    dismissed = _dismissed(session, row_id)
    suggestion = None
    for match in ranking.matches:
        if match.profile.key in linked or match.profile.id in dismissed:
            continue
        if is_recurrence(match, threshold):
            earlier = get_postmortem(session, key=match.profile.key, actor=actor).postmortem
            suggestion = RecurrenceSuggestion(
                key=match.profile.key,
                title=match.profile.title,
                happened_at=_incident_start(earlier, match.profile.created_at),
                score=round(match.score, 3),
                action_items=earlier.action_items,
                actions_summary=summarize_actions(earlier.action_items),
            )
        break
    note = "" if model is not None else NO_MODEL_NOTE
    return SimilarIncidents(items, ranking.mode, note, suggestion, links)


def _incident_start(pm: Postmortem, created_at: dt.datetime) -> dt.datetime:
    """When the incident happened: impact started, else its first event, else when it was
    written down."""
    moments = pm.key_moments()
    if KeyMoment.IMPACT_STARTED in moments:
        return moments[KeyMoment.IMPACT_STARTED].at
    return pm.timeline[0].at if pm.timeline else created_at


def _own_vector(
    session: Session, row_id: int, postmortem: Postmortem, model: Embedder | None
) -> Vector | None:
    """The incident's stored vector if it is current for our model, else one made now."""
    if model is None:
        return None
    row = session.get(IncidentProfileRow, row_id)
    if row is not None and row.model == model.name and row.vector:
        return decode_vector(row.vector)
    return model.embed([profile_text(postmortem)])[0]


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
