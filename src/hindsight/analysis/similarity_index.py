"""An in-memory index of incident profiles for "Seen before": the pool's vectors as one numpy
matrix (centred on the pool's mean, rows of unit length), BM25 postings as flat arrays (one
slice of documents and weights per term) and the structured fields (services, factor
categories, tags) as postings too. Pure: it is built from `Profile` values and answers in plain
values; services/similar_index.py keeps one per process in step with the database.

Every query is answered by whole-array operations, so the cost grows with the archive only as
fast as numpy walks arrays (a matrix-vector product, a few bincounts), never as Python loops.
The matrix-vector product runs on one BLAS thread (`one_blas_thread`): it is bound by memory,
not arithmetic (100 MB read at 100,000 incidents), and on a busy machine a second thread mostly
waits to be scheduled (docs/benchmarks.md: about 5 ms on one thread, 8-16 ms on two).
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from threadpoolctl import ThreadpoolController

BM25_K1 = 1.2
BM25_B = 0.75
# The query is a whole report; like Lucene's "more like this", only its most telling terms
# (highest tf-idf in the pool) are searched for.
QUERY_TERMS = 25

# An embedding: a sequence of floats or a float32 array.
Vector = Sequence[float] | npt.NDArray[np.float32]
Floats = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Profile:
    """What the scorer knows about one incident; `happened_at` orders "earlier" (when the
    incident started), `created_at` is when it was written down."""

    id: int
    key: str
    title: str
    created_at: dt.datetime
    terms: tuple[str, ...]
    services: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    tags: frozenset[str] = frozenset()
    vector: Vector | None = None
    happened_at: dt.datetime | None = None

    @property
    def happened(self) -> dt.datetime:
        return self.happened_at or self.created_at


@dataclass(frozen=True)
class Parts:
    """The three similarity parts of every indexed incident for one query, pool-wide arrays
    (position i is `SimilarityIndex.ids[i]`): raw BM25, centred cosine (NaN without a vector),
    share of the query's structured fields (0 when the query has none); `self_score` is the
    BM25 the query gives itself, `terms` its telling terms with their weights."""

    lexical: Floats
    semantic: Floats
    structured: Floats
    self_score: float
    terms: dict[int, float]
    has_vector: bool


class _Vocabulary(dict[str, int]):
    """Term ids in order of first sight."""

    def __missing__(self, term: str) -> int:
        self[term] = number = len(self)
        return number


def _stamp(at: dt.datetime) -> float:
    return at.timestamp()


@functools.cache
def _blas() -> ThreadpoolController:
    return ThreadpoolController()


_BLAS_LOCK = threading.Lock()
_blas_users = 0
_blas_limit: Any = None  # threadpoolctl's limiter while any lookup holds one thread


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run the block with BLAS on one thread. The thread count is process-wide, so it is
    counted: the first of concurrent lookups sets it, the last one restores it."""
    global _blas_users, _blas_limit
    with _BLAS_LOCK:
        if _blas_users == 0:
            _blas_limit = _blas().limit(limits=1, user_api="blas")
        _blas_users += 1
    try:
        yield
    finally:
        with _BLAS_LOCK:
            _blas_users -= 1
            if _blas_users == 0:
                _blas_limit.restore_original_limits()
                _blas_limit = None


class SimilarityIndex:
    """Profiles of a pool of incidents, for BM25, cosine and shared-field look-ups."""

    def __init__(self, profiles: Iterable[Profile]) -> None:
        """One pass over `profiles` (a stream is fine: no profile's words are kept)."""
        self.ids_list: list[int] = []
        self.keys: list[str] = []
        self.titles: list[str] = []
        self.created: list[dt.datetime] = []
        happened: list[float] = []
        self.vocabulary: dict[str, int] = _Vocabulary()
        terms: list[npt.NDArray[np.int32]] = []
        counts: list[npt.NDArray[np.int64]] = []
        lengths: list[int] = []
        vectors: list[Vector | None] = []
        fields: dict[str, dict[str, list[int]]] = {
            name: defaultdict(list) for name in ("services", "categories", "tags")
        }
        for n, profile in enumerate(profiles):
            self.ids_list.append(profile.id)
            self.keys.append(profile.key)
            self.titles.append(profile.title)
            self.created.append(profile.created_at)
            happened.append(_stamp(profile.happened))
            unique, tf = self._term_counts(profile.terms)
            terms.append(unique)
            counts.append(tf)
            lengths.append(len(profile.terms))
            vectors.append(profile.vector)
            for name, values in (
                ("services", profile.services),
                ("categories", profile.categories),
                ("tags", profile.tags),
            ):
                for value in values:
                    fields[name][value].append(n)
        self.ids = np.array(self.ids_list, dtype=np.int64)
        self.happened = np.array(happened, dtype=np.float64)
        self.created_stamps = np.array([_stamp(c) for c in self.created], dtype=np.float64)
        self._position = {i: n for n, i in enumerate(self.ids_list)}
        self._build_postings(terms, counts, np.array(lengths, dtype=np.float64))
        self._build_vectors(vectors)
        self._fields = {
            name: {value: np.array(docs, dtype=np.int64) for value, docs in found.items()}
            for name, found in fields.items()
        }

    def __len__(self) -> int:
        return len(self.keys)

    def position(self, incident_id: int) -> int | None:
        """Where an incident is in the arrays, or None when it is not indexed."""
        return self._position.get(incident_id)

    # -- building ---------------------------------------------------------------------------

    def _term_counts(
        self, words: Sequence[str]
    ) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int64]]:
        # Counted in C, then `map` over a dict that numbers new words itself: no Python frame
        # per word.
        counts = Counter(words)
        ids = np.fromiter(map(self.vocabulary.__getitem__, counts), np.int32, count=len(counts))
        return ids, np.fromiter(counts.values(), np.int64, count=len(counts))

    def _build_postings(
        self,
        terms: list[npt.NDArray[np.int32]],
        counts: list[npt.NDArray[np.int64]],
        lengths: Floats,
    ) -> None:
        """One (document, weight) array pair sorted by term: the BM25 term-frequency part
        with its length norm, so a query only multiplies by idf."""
        self.lengths = lengths
        self.avgdl = float(lengths.mean()) if len(lengths) and lengths.mean() else 1.0
        sizes = np.fromiter(map(len, terms), np.int64, count=len(terms))
        docs = np.repeat(np.arange(len(terms), dtype=np.int32), sizes)
        term_of = np.concatenate(terms) if terms else np.zeros(0, dtype=np.int32)
        order = np.argsort(term_of, kind="stable")  # documents stay in order within a term
        term_of = term_of[order]
        doc_of = docs[order]
        tf = (np.concatenate(counts) if counts else np.zeros(0, dtype=np.int64))[order]
        tf = tf.astype(np.float64)
        norm = BM25_K1 * (1 - BM25_B + BM25_B * lengths[doc_of] / self.avgdl)
        self._weights = (tf * (BM25_K1 + 1) / (tf + norm)).astype(np.float32)
        self._docs = doc_of
        size = len(self.vocabulary)
        self._words = list(self.vocabulary)  # term ids are insertion order
        self._starts = np.searchsorted(term_of, np.arange(size + 1)).astype(np.int64)
        self.df = np.diff(self._starts).astype(np.float64)

    def _build_vectors(self, vectors: list[Vector | None]) -> None:
        dims = next((len(v) for v in vectors if v is not None), 0)
        self.has_vector = np.array(
            [v is not None and len(v) == dims for v in vectors], dtype=np.bool_
        )
        matrix = np.zeros((len(vectors), dims), dtype=np.float32)
        for n, vector in enumerate(vectors):
            if self.has_vector[n]:
                matrix[n] = np.asarray(vector, dtype=np.float32)
        # Static embeddings of long texts share a common direction; without it the cosine
        # compares what is particular to each incident.
        self.center = (
            matrix[self.has_vector].mean(axis=0)
            if self.has_vector.sum() > 1
            else np.zeros(dims, dtype=np.float32)
        )
        matrix -= self.center
        matrix[~self.has_vector] = 0.0
        self._without_vector = np.flatnonzero(~self.has_vector)  # few or none: cheap to mask
        norms = np.linalg.norm(matrix, axis=1)
        self._vectors = matrix / np.where(norms == 0, 1.0, norms)[:, None]

    # -- querying ---------------------------------------------------------------------------

    def idf(self, term: int) -> float:
        n = float(self.df[term]) if 0 <= term < len(self.df) else 0.0
        return math.log(1 + (len(self) - n + 0.5) / (n + 0.5))

    def telling_terms(self, terms: Sequence[str], count: int = QUERY_TERMS) -> Counter[str]:
        """The `count` terms of a document with the highest tf-idf in this pool."""
        tf = Counter(terms)

        def weight(term: str) -> float:
            return tf[term] * self.idf(self.vocabulary.get(term, -1))

        best = sorted(tf, key=lambda t: (-weight(t), t))[:count]
        return Counter({term: tf[term] for term in best})

    def parts(self, query: Profile) -> Parts:
        """The lexical, semantic and structured parts of every indexed incident for `query`."""
        size = len(self)
        telling = self.telling_terms(query.terms)
        weights = {}
        self_score = 0.0
        norm = BM25_K1 * (1 - BM25_B + BM25_B * len(query.terms) / (self.avgdl or 1.0))
        docs, scores = [], []
        for term, qtf in telling.items():
            idf = self.idf(self.vocabulary.get(term, -1))
            self_score += idf * min(qtf, 3) * qtf * (BM25_K1 + 1) / (qtf + norm)
            term_id = self.vocabulary.get(term)
            if term_id is None:
                continue
            weights[term_id] = idf * min(qtf, 3)
            start, end = self._starts[term_id], self._starts[term_id + 1]
            docs.append(self._docs[start:end])
            scores.append(self._weights[start:end] * np.float32(weights[term_id]))
        lexical: Floats = np.zeros(size, dtype=np.float64)
        if docs:
            lexical = np.bincount(
                np.concatenate(docs), np.concatenate(scores), minlength=size
            ).astype(np.float64)
        semantic = np.full(size, np.nan, dtype=np.float64)
        has_vector = query.vector is not None and self._vectors.shape[1] == len(query.vector)
        if has_vector and size:
            target = np.asarray(query.vector, dtype=np.float32) - self.center
            target /= float(np.linalg.norm(target)) or 1.0
            with one_blas_thread():
                semantic = (self._vectors @ target).astype(np.float64)
            semantic[self._without_vector] = np.nan
        return Parts(
            lexical, semantic, self._structured(query), self_score, weights, bool(has_vector)
        )

    def _structured(self, query: Profile) -> Floats:
        """Mean over the query's non-empty fields of the share of its values each incident
        also has; 0 everywhere when the query has no services, categories or tags."""
        size = len(self)
        total = np.zeros(size, dtype=np.float64)
        fields = 0
        for name, values in (
            ("services", query.services),
            ("categories", query.categories),
            ("tags", query.tags),
        ):
            if not values:
                continue
            fields += 1
            postings = [self._fields[name][v] for v in values if v in self._fields[name]]
            if postings:
                counts = np.bincount(np.concatenate(postings), minlength=size)
                total += counts[:size] / len(values)
        return total / fields if fields else total

    def matching_terms(self, parts: Parts, position: int, count: int = 5) -> tuple[str, ...]:
        """The query's terms that scored for the incident at `position`, best first."""
        scored = []
        for term_id, weight in parts.terms.items():
            start, end = self._starts[term_id], self._starts[term_id + 1]
            docs = self._docs[start:end]
            at = int(np.searchsorted(docs, np.int32(position)))
            if at < len(docs) and docs[at] == position:
                scored.append((weight * float(self._weights[start + at]), self._words[term_id]))
        scored.sort(reverse=True)
        return tuple(term for _, term in scored[:count])

    def shared(self, position: int, query: Profile) -> tuple[tuple[str, ...], ...]:
        """The services, categories and tags the incident at `position` shares with `query`."""
        out = []
        for name, values in (
            ("services", query.services),
            ("categories", query.categories),
            ("tags", query.tags),
        ):
            postings = self._fields[name]
            out.append(
                tuple(
                    sorted(
                        v
                        for v in values
                        if v in postings
                        and np.searchsorted(postings[v], position) < len(postings[v])
                        and postings[v][np.searchsorted(postings[v], position)] == position
                    )
                )
            )
        return tuple(out)

    def earlier_than(self, query: Profile) -> Mask:
        """Incidents that happened before `query` (ties: those written down first, then those
        stored first), itself excluded."""
        when, written = _stamp(query.happened), _stamp(query.created_at)
        same = self.happened == when
        tie = (self.created_stamps < written) | (
            (self.created_stamps == written) & (self.ids < query.id)
        )
        mask: Mask = ((self.happened < when) | (same & tie)) & (self.ids != query.id)
        return mask
