"""Which earlier incidents are like this one, and why: reciprocal rank fusion (RRF) of a
lexical ranking (BM25 over the profiles' words), a semantic ranking (cosine of embedding
vectors centred on the pool's mean) and a structured one (share of the query's services,
factor categories and tags), over an index of the pool (analysis/similarity_index.py).

RRF adds `weight / (RRF_K + rank)` over the rankings an incident is in, so raw scores of
different scales never meet; `Match.score` is that sum over the most it could be (first in
every ranking), 0..1. Because it depends on the rest of the pool, the recurrence suggestion
uses its own pool-independent score (`recurrence_score`): a mix of the BM25 score over the
score the query would give itself, and the centred cosine. Without vectors (no model
installed) the semantic ranking is dropped and the result says so.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from hindsight.analysis.similarity_index import (
    BM25_B,
    BM25_K1,
    QUERY_TERMS,
    Parts,
    Profile,
    SimilarityIndex,
)
from hindsight.analysis.similarity_values import Mask, Vector
from hindsight.domain.incidents import Postmortem

__all__ = [
    "BM25_B",
    "BM25_K1",
    "QUERY_TERMS",
    "Profile",
    "SimilarityIndex",
    "Vector",
]

# Chosen on the tuning part of bench/similar's labelled set only (bench/similar/README.md).
RRF_K = 1
WEIGHTS = {"lexical": 0.5, "semantic": 1.0, "structured": 0.25}
# How deep each ranking is fused: an incident below this in every ranking adds at most
# weight / (RRF_K + FUSE_DEPTH) and cannot reach the top.
FUSE_DEPTH = 100
RECURRENCE_LEXICAL_SHARE = 1.0
RECURRENCE_THRESHOLD = 0.24
MAX_TERMS = 400

_WORD = re.compile(r"[a-z0-9][a-z0-9_.-]*[a-z0-9]|[a-z0-9]")
_STOPWORD_TEXT = """
    a about above after again against all also am an and any are as at be because been
    before being below between both but by can could did do does doing down during each
    few for from further had has have having he her here hers him his how i if in into is
    it its itself just me more most my no nor not now of off on once only or other our
    ours out over own same she should so some such than that the their them then there
    these they this those through to too under until up very was we were what when where
    which while who whom why will with would you your yours us via per was were been get
    got see seen one two three new used use using also however still there's it's we're
    didn't don't wasn't
"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def tokenize(text: str) -> list[str]:
    """Lowercase word tokens without stopwords; a trailing plural 's' is dropped so that
    'certificates' meets 'certificate'."""
    words = []
    for word in _WORD.findall(text.lower()):
        if word in _STOPWORDS or word.isdigit():
            continue
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        words.append(word)
    return words


def profile_text(pm: Postmortem) -> str:
    """The words an incident is compared by: what happened and why, not who or when."""
    parts: list[str] = [pm.title, pm.title, pm.summary, pm.analysis.trigger]
    parts += pm.analysis.root_causes
    parts += [f.description for f in pm.analysis.contributing_factors]
    parts += [w.answer for w in pm.analysis.five_whys]
    parts += [pm.impact.narrative, pm.response.detection_notes]
    parts += pm.response.went_wrong
    parts += [lesson.text for lesson in pm.lessons]
    parts += [item.title for item in pm.action_items]
    parts += [event.text for event in pm.timeline]
    return "\n".join(part for part in parts if part)


def make_profile(
    pm: Postmortem,
    *,
    id: int,
    created_at: dt.datetime,
    vector: Vector | None = None,
    happened_at: dt.datetime | None = None,
) -> Profile:
    """The profile of a postmortem."""
    return Profile(
        id=id,
        key=pm.key,
        title=pm.title,
        created_at=created_at,
        terms=tuple(tokenize(profile_text(pm))[:MAX_TERMS]),
        services=frozenset(pm.services),
        categories=frozenset(f.category for f in pm.analysis.contributing_factors),
        tags=frozenset(pm.tags),
        vector=np.asarray(vector, dtype=np.float32) if vector is not None else None,
        happened_at=happened_at,
    )


@dataclass(frozen=True)
class Why:
    """What a similar incident shares with the one asked about."""

    services: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    terms: tuple[str, ...] = ()

    def sentence(self) -> str:
        """'shares services api; categories config; terms certificate, expiry'."""
        parts = [
            f"{label} {', '.join(values)}"
            for label, values in (
                ("services", self.services),
                ("factor categories", self.categories),
                ("tags", self.tags),
                ("terms", self.terms),
            )
            if values
        ]
        return "shares " + "; ".join(parts) if parts else "similar wording"


@dataclass(frozen=True)
class Match:
    """One similar incident: `position` in the index, its fused score (0..1), the parts
    (lexical: BM25 over the query's own; semantic: centred cosine; structured: share of
    fields), the pool-independent `recurrence` score and why."""

    position: int
    id: int
    key: str
    title: str
    created_at: dt.datetime
    score: float
    lexical: float
    semantic: float | None
    structured: float
    recurrence: float
    why: Why = field(default_factory=Why)


@dataclass(frozen=True)
class Ranking:
    """The most similar incidents, best first; `mode` is 'hybrid' or 'lexical' (no vectors)."""

    matches: list[Match]
    mode: str
    parts: Parts | None = None  # kept by `rank(..., explain=False)` for `explain` later


def _top(values: np.ndarray, keep: Mask, depth: int) -> np.ndarray:
    """Positions of the `depth` highest `values` where `keep`, best first (ties: position)."""
    candidates = np.flatnonzero(keep)
    if len(candidates) > depth:
        part = np.argpartition(-values[candidates], depth - 1)[:depth]
        candidates = candidates[part]
    order = np.lexsort((candidates, -values[candidates]))
    return candidates[order]


def _tied_ranks(values: np.ndarray, keep: Mask, positions: Sequence[int]) -> dict[int, float]:
    """For each of `positions`: 1 + how many kept values are strictly higher (equal values
    share a rank): many incidents share a service, and their order among them says nothing."""
    kept = values[keep]
    above = {v: 1.0 + np.count_nonzero(kept > v) for v in {float(values[p]) for p in positions}}
    return {p: above[float(values[p])] for p in positions}


def fuse(
    parts: Parts,
    eligible: Mask,
    *,
    weights: dict[str, float] | None = None,
    k: float = RRF_K,
    depth: int = FUSE_DEPTH,
    use_semantic: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """RRF of the rankings: (positions best first, their fused scores over the most possible).
    A ranking with weight 0, or without values (no vectors, no fields), takes no part."""
    weights = WEIGHTS if weights is None else weights
    fused: dict[int, float] = {}
    best = 0.0
    lists = [("lexical", parts.lexical, eligible & (parts.lexical > 0))]
    if use_semantic and parts.has_vector:
        lists.append(("semantic", parts.semantic, eligible & ~np.isnan(parts.semantic)))
    for name, values, keep in lists:
        weight = weights.get(name, 0.0)
        if weight <= 0 or not keep.any():
            continue
        best += weight / (k + 1)
        for rank, position in enumerate(_top(values, keep, depth).tolist(), start=1):
            fused[position] = fused.get(position, 0.0) + weight / (k + rank)
    weight = weights.get("structured", 0.0)
    structured = parts.structured
    shares = eligible & (structured > 0)
    if weight > 0 and shares.any():
        best += weight / (k + 1)
        if not fused:  # neither words nor meaning: shared fields alone
            fused = dict.fromkeys(_top(structured, shares, depth).tolist(), 0.0)
        ranks = _tied_ranks(structured, shares, list(fused))
        for position in fused:
            if structured[position] > 0:
                fused[position] += weight / (k + ranks[position])
    positions = np.array(list(fused), dtype=np.int64)
    scores = np.array(list(fused.values()), dtype=np.float64) / (best or 1.0)
    order = np.lexsort((positions, -scores))
    return positions[order], scores[order]


def recurrence_score(lexical: float, semantic: float | None) -> float:
    """How sure a match is the same failure again, 0..1, whatever the rest of the pool: the
    BM25 share and the centred cosine, mixed (lexical alone without vectors)."""
    if semantic is None:
        return lexical
    share = RECURRENCE_LEXICAL_SHARE
    return share * lexical + (1 - share) * max(0.0, semantic)


def rank(
    index: SimilarityIndex,
    query: Profile,
    eligible: Mask,
    *,
    limit: int = 5,
    use_semantic: bool = True,
    weights: dict[str, float] | None = None,
    explain: bool = True,
) -> Ranking:
    """The `limit` incidents of `index` where `eligible` most like `query`, best first; with
    `explain` False their `why` is left empty (and the parts kept) for `explain_match` to
    fill in for the few actually shown."""
    parts = index.parts(query)
    semantic_on = use_semantic and parts.has_vector
    positions, scores = fuse(parts, eligible, weights=weights, use_semantic=semantic_on)
    matches = []
    for position, score in zip(positions[:limit].tolist(), scores[:limit].tolist(), strict=True):
        raw = float(parts.lexical[position])
        lexical = min(1.0, raw / parts.self_score) if parts.self_score else 0.0
        cosine = float(parts.semantic[position]) if semantic_on else float("nan")
        semantic = None if np.isnan(cosine) else max(0.0, cosine)
        structured = float(parts.structured[position])
        why = _why(index, parts, query, position) if explain else Why()
        matches.append(
            Match(
                position=position,
                id=int(index.ids[position]),
                key=index.keys[position],
                title=index.titles[position],
                created_at=index.created[position],
                score=score,
                lexical=lexical,
                semantic=semantic,
                structured=structured,
                recurrence=recurrence_score(lexical, semantic),
                why=why,
            )
        )
    mode = "hybrid" if semantic_on else "lexical"
    return Ranking(matches, mode, None if explain else parts)


def _why(index: SimilarityIndex, parts: Parts, query: Profile, position: int) -> Why:
    services, categories, tags = index.shared(position, query)
    return Why(services, categories, tags, index.matching_terms(parts, position))


def explain_match(index: SimilarityIndex, ranking: Ranking, query: Profile, match: Match) -> Match:
    """`match` (of a `rank(..., explain=False)` ranking) with its `why` filled in."""
    assert ranking.parts is not None, "explain_match needs a ranking made with explain=False"
    return replace(match, why=_why(index, ranking.parts, query, match.position))


def score_candidates(
    query: Profile,
    candidates: Sequence[Profile],
    *,
    limit: int = 5,
    use_semantic: bool = True,
    weights: dict[str, float] | None = None,
) -> Ranking:
    """Rank `candidates` by similarity to `query` (itself excluded), best first: an index of
    the candidates and the query, searched once."""
    pool = [c for c in candidates if c.id != query.id]
    index = SimilarityIndex([*pool, query])
    eligible = index.ids != query.id
    return rank(index, query, eligible, limit=limit, use_semantic=use_semantic, weights=weights)


def is_recurrence(match: Match, threshold: float = RECURRENCE_THRESHOLD) -> bool:
    """Whether a match is close enough to suggest the incident happened again."""
    return match.recurrence >= threshold
