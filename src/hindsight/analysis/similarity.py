"""Which earlier incidents are like this one, and why: a pure hybrid of lexical (BM25),
semantic (cosine of embedding vectors) and structured (shared services, factor categories,
tags) similarity.

Every part is scaled to 0..1 without looking at the rest of the pool, so a score means the
same thing for every query and a recurrence threshold can be fixed:
- lexical: the BM25 score of the candidate divided by the BM25 score the query would give
  itself (the most any document could get for these terms);
- semantic: the cosine of the two vectors, rescaled so that `SEMANTIC_FLOOR` (what two
  unrelated incident reports typically share) is 0;
- structured: the share of the query's services, categories and tags the candidate also has.
Without vectors (no model installed) the semantic weight is dropped and the result says so.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from hindsight.domain.incidents import Postmortem

# Chosen on the tuning half of bench/similar's labelled set only (bench/similar/README.md).
WEIGHTS = {"lexical": 0.2, "semantic": 0.7, "structured": 0.1}
SEMANTIC_FLOOR = 0.0
RECURRENCE_THRESHOLD = 0.5
BM25_K1 = 1.2
BM25_B = 0.75
MAX_TERMS = 400
# The query is a whole report; like Lucene's "more like this", only its most telling terms
# (highest tf-idf in the pool) are searched for.
QUERY_TERMS = 25

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


# An embedding: a sequence of floats or a float32 array.
Vector = Sequence[float] | npt.NDArray[np.float32]


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


@dataclass(frozen=True)
class Profile:
    """What the scorer knows about one incident."""

    id: int
    key: str
    title: str
    created_at: dt.datetime
    terms: tuple[str, ...]
    services: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    tags: frozenset[str] = frozenset()
    vector: Vector | None = None


def make_profile(
    pm: Postmortem,
    *,
    id: int,
    created_at: dt.datetime,
    vector: Vector | None = None,
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
    """One similar incident with its score (0..1), the score's parts and why."""

    profile: Profile
    score: float
    lexical: float
    semantic: float | None
    structured: float
    why: Why = field(default_factory=Why)


@dataclass(frozen=True)
class Ranking:
    """The most similar incidents, best first; `mode` is 'hybrid' or 'lexical' (no vectors)."""

    matches: list[Match]
    mode: str


class Corpus:
    """Document frequencies and average length of a pool of profiles, for BM25."""

    def __init__(self, profiles: Iterable[Profile]) -> None:
        self.df: Counter[str] = Counter()
        self.count = 0
        total = 0
        for profile in profiles:
            self.count += 1
            total += len(profile.terms)
            self.df.update(set(profile.terms))
        self.avgdl = total / self.count if self.count else 1.0

    def idf(self, term: str) -> float:
        n = self.df.get(term, 0)
        return math.log(1 + (self.count - n + 0.5) / (n + 0.5))

    def telling_terms(self, terms: Sequence[str], count: int = QUERY_TERMS) -> Counter[str]:
        """The `count` terms of a document with the highest tf-idf in this pool."""
        tf = Counter(terms)
        best = sorted(tf, key=lambda t: (-tf[t] * self.idf(t), t))[:count]
        return Counter({term: tf[term] for term in best})

    def bm25(self, query: Counter[str], terms: Sequence[str]) -> tuple[float, list[str]]:
        """BM25 of a document for the query's terms, and the terms that scored, best first."""
        length_norm = BM25_K1 * (1 - BM25_B + BM25_B * len(terms) / (self.avgdl or 1.0))
        scored: list[tuple[float, str]] = []
        for term, weight in query.items():
            f = terms.count(term)  # 25 scans in C beat counting all 400 terms in Python
            if f:
                part = self.idf(term) * f * (BM25_K1 + 1) / (f + length_norm)
                scored.append((part * min(weight, 3), term))
        scored.sort(reverse=True)
        return sum(s for s, _ in scored), [t for _, t in scored]


def _centred_cosines(query: Profile, candidates: Sequence[Profile]) -> dict[int, float]:
    """Cosine of the query's vector with each candidate's, after taking away the pool's mean:
    static embeddings of long texts share a common direction, and without it the cosine
    compares what is particular to each incident."""
    with_vectors = [c for c in candidates if c.vector is not None and c.id != query.id]
    if query.vector is None or not with_vectors:
        return {}
    matrix = np.vstack([np.asarray(c.vector, dtype=np.float32) for c in with_vectors])
    target = np.asarray(query.vector, dtype=np.float32)
    if len(with_vectors) > 1:
        center = matrix.mean(axis=0)
        matrix, target = matrix - center, target - center
    norms = np.linalg.norm(matrix, axis=1) * (np.linalg.norm(target) or 1.0)
    values = (matrix @ target) / np.where(norms == 0, 1.0, norms)
    return {c.id: float(v) for c, v in zip(with_vectors, values, strict=True)}


def _share(query: frozenset[str], other: frozenset[str]) -> tuple[float | None, tuple[str, ...]]:
    if not query:
        return None, ()
    shared = tuple(sorted(query & other))
    return len(shared) / len(query), shared


def score_candidates(
    query: Profile,
    candidates: Sequence[Profile],
    *,
    corpus: Corpus | None = None,
    limit: int = 5,
    use_semantic: bool = True,
    weights: dict[str, float] | None = None,
) -> Ranking:
    """Rank `candidates` by similarity to `query` (itself excluded), best first."""
    weights = weights or WEIGHTS
    corpus = corpus or Corpus([query, *candidates])
    qterms = corpus.telling_terms(query.terms)
    self_score, _ = corpus.bm25(qterms, query.terms)
    semantic_on = use_semantic and query.vector is not None
    cosines = _centred_cosines(query, candidates) if semantic_on else {}
    matches = []
    for candidate in candidates:
        if candidate.id == query.id:
            continue
        raw, terms = corpus.bm25(qterms, candidate.terms)
        lexical = min(1.0, raw / self_score) if self_score else 0.0
        semantic: float | None = None
        if candidate.id in cosines:
            c = cosines[candidate.id]
            semantic = max(0.0, (c - SEMANTIC_FLOOR) / (1 - SEMANTIC_FLOOR))
        shares = [
            _share(query.services, candidate.services),
            _share(query.categories, candidate.categories),
            _share(query.tags, candidate.tags),
        ]
        known = [value for value, _ in shares if value is not None]
        structured = sum(known) / len(known) if known else 0.0
        parts = {"lexical": lexical, "semantic": semantic, "structured": structured}
        used = {
            name: weight
            for name, weight in weights.items()
            if parts[name] is not None and not (name == "structured" and not known)
        }
        total = sum(used.values()) or 1.0
        score = sum(weight * (parts[name] or 0.0) for name, weight in used.items()) / total
        why = Why(shares[0][1], shares[1][1], shares[2][1], tuple(terms[:5]))
        matches.append(Match(candidate, score, lexical, semantic, structured, why))
    matches.sort(key=lambda m: (-m.score, -m.profile.created_at.timestamp(), m.profile.id))
    return Ranking(matches[:limit], "hybrid" if semantic_on else "lexical")


def is_recurrence(match: Match, threshold: float = RECURRENCE_THRESHOLD) -> bool:
    """Whether a match is close enough to suggest the incident happened again."""
    return match.score >= threshold
