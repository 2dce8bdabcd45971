"""An in-memory index of incident profiles for "Seen before": the pool's vectors as one numpy
matrix (centred on the pool's mean, rows of unit length), BM25 postings as flat arrays (one
slice of documents and weights per term) and the structured fields (services, factor
categories, tags) as postings too. Pure: it is built from `Profile` values and answers in plain
values; services/similar_index.py keeps one per process in step with the database.

Every query is answered by whole-array operations, so the cost grows with the archive only as
fast as numpy walks arrays (a matrix-vector product, a few bincounts), never as Python loops.
The matrix-vector product runs on one BLAS thread (`one_blas_thread`): it is bound by memory,
not arithmetic (100 MB read at 100,000 incidents), and on a busy machine a second thread mostly
waits to be scheduled (docs/benchmarks.md: 5-7 ms on one thread, 8 ms or more on two).
"""

from __future__ import annotations

import copy
import datetime as dt
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

from hindsight.analysis.blas import one_blas_thread as one_blas_thread
from hindsight.analysis.similarity_values import Floats, Mask, Vector, Vocabulary, stamp
from hindsight.analysis.similarity_values import Parts as Parts
from hindsight.analysis.similarity_values import Profile as Profile

BM25_K1 = 1.2
BM25_B = 0.75
# The query is a whole report; like Lucene's "more like this", only its most telling terms
# (highest tf-idf in the pool) are searched for.
QUERY_TERMS = 25


class SimilarityIndex:
    """Profiles of a pool of incidents, for BM25, cosine and shared-field look-ups."""

    def __init__(self, profiles: Iterable[Profile]) -> None:
        """One pass over `profiles` (a stream is fine: no profile's words are kept)."""
        self.ids_list: list[int] = []
        self.keys: list[str] = []
        self.titles: list[str] = []
        self.created: list[dt.datetime] = []
        happened: list[float] = []
        self.vocabulary: dict[str, int] = Vocabulary()
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
            happened.append(stamp(profile.happened))
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
        self.created_stamps = np.array([stamp(c) for c in self.created], dtype=np.float64)
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

    def with_changes(self, profiles: Iterable[Profile]) -> SimilarityIndex | None:
        """A new index, with `profiles` in place of the indexed ones of the same ids and the
        others (ids past every indexed one) added at the end: the same answers as an index
        built again from the whole pool, in a fraction of the time (this one is not changed:
        lookups may be using it). None when it cannot be patched so (an unindexed id below
        the largest indexed one, a vector of another size than the index's): build it again.

        Steps: copy the per-incident lists and put the changes in; drop the changed
        incidents' postings and insert their new ones in (term, document) order; weigh every
        posting again (the mean length changes); centre every vector again (the mean vector
        changes); move the changed incidents in the structured fields' postings."""
        changed = {p.id: p for p in profiles}
        if not changed:
            return self
        top = self.ids_list[-1] if self.ids_list else -1
        added = sorted(i for i in changed if i not in self._position)
        dims = self._raw.shape[1]
        if (added and added[0] <= top) or any(
            p.vector is not None and len(p.vector) != dims for p in changed.values()
        ):
            return None
        new = copy.copy(self)
        new._patch_rows(changed, added)
        positions = [new._position[i] for i in sorted(changed, key=new._position.__getitem__)]
        replaced = np.array([n for n in positions if n < len(self)], dtype=np.int64)
        new._patch_postings([changed[new.ids_list[n]] for n in positions], positions, replaced)
        new._patch_vectors([changed[new.ids_list[n]] for n in positions], positions)
        new._patch_fields([changed[new.ids_list[n]] for n in positions], replaced)
        return new

    def _patch_rows(self, changed: dict[int, Profile], added: list[int]) -> None:
        self.ids_list, self.keys = list(self.ids_list), list(self.keys)
        self.titles, self.created = list(self.titles), list(self.created)
        self._position = dict(self._position)
        for incident_id in added:
            self._position[incident_id] = len(self.ids_list)
            self.ids_list.append(incident_id)
            self.keys.append("")
            self.titles.append("")
            self.created.append(changed[incident_id].created_at)
        happened = np.concatenate([self.happened, np.zeros(len(added))])
        for incident_id, profile in changed.items():
            n = self._position[incident_id]
            self.keys[n], self.titles[n], self.created[n] = (
                profile.key,
                profile.title,
                profile.created_at,
            )
            happened[n] = stamp(profile.happened)
        self.ids = np.array(self.ids_list, dtype=np.int64)
        self.happened = happened
        self.created_stamps = np.array([stamp(c) for c in self.created], dtype=np.float64)

    def _patch_postings(
        self, profiles: list[Profile], positions: list[int], replaced: npt.NDArray[np.int64]
    ) -> None:
        self.vocabulary = Vocabulary(self.vocabulary)
        term_of = np.repeat(np.arange(len(self.df), dtype=np.int32), np.diff(self._starts))
        keep = ~np.isin(self._docs, replaced)
        term_of, doc_of, tf = term_of[keep], self._docs[keep], self._tf[keep]
        lengths = np.concatenate([self.lengths, np.zeros(len(self) - len(self.lengths))])
        terms, docs, counts = [], [], []
        for n, profile in zip(positions, profiles, strict=True):
            unique, count = self._term_counts(profile.terms)
            terms.append(unique)
            counts.append(count.astype(np.int32))
            docs.append(np.full(len(unique), n, dtype=np.int32))
            lengths[n] = len(profile.terms)
        new_terms, new_docs = np.concatenate(terms), np.concatenate(docs)
        new_key = (new_terms.astype(np.int64) << 32) | new_docs
        order = np.argsort(new_key, kind="stable")
        at = np.searchsorted((term_of.astype(np.int64) << 32) | doc_of, new_key[order])
        self._set_postings(
            np.insert(term_of, at, new_terms[order]),
            np.insert(doc_of, at, new_docs[order]),
            np.insert(tf, at, np.concatenate(counts)[order]),
            lengths,
        )

    def _patch_vectors(self, profiles: list[Profile], positions: list[int]) -> None:
        grown = len(self) - len(self._raw)
        raw = np.concatenate([self._raw, np.zeros((grown, self._raw.shape[1]), np.float32)])
        has_vector = np.concatenate([self.has_vector, np.zeros(grown, dtype=np.bool_)])
        for n, profile in zip(positions, profiles, strict=True):
            has_vector[n] = profile.vector is not None
            raw[n] = 0.0 if profile.vector is None else np.asarray(profile.vector, np.float32)
        self._set_vectors(raw, has_vector)

    def _patch_fields(self, profiles: list[Profile], replaced: npt.NDArray[np.int64]) -> None:
        fields: dict[str, dict[str, npt.NDArray[np.int64]]] = {}
        for name, found in self._fields.items():
            moved: dict[str, list[int]] = defaultdict(list)
            for profile in profiles:
                for value in getattr(profile, name):
                    moved[value].append(self._position[profile.id])
            kept = {
                value: docs[~np.isin(docs, replaced)] if len(replaced) else docs
                for value, docs in found.items()
            }
            for value, docs in moved.items():
                before = kept.get(value, np.zeros(0, dtype=np.int64))
                kept[value] = np.union1d(before, np.array(docs, dtype=np.int64))
            fields[name] = {value: docs for value, docs in kept.items() if len(docs)}
        self._fields = fields

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
        """The (term, document, count) of every posting, sorted by term then document."""
        sizes = np.fromiter(map(len, terms), np.int64, count=len(terms))
        docs = np.repeat(np.arange(len(terms), dtype=np.int32), sizes)
        term_of = np.concatenate(terms) if terms else np.zeros(0, dtype=np.int32)
        # Stable, so documents stay in order within a term; numpy sorts 16-bit keys by radix
        # (a fifth of the time for 20 million postings), so a vocabulary that fits uses them.
        keys = term_of.astype(np.uint16) if len(self.vocabulary) <= 1 << 16 else term_of
        order = np.argsort(keys, kind="stable")
        tf = (np.concatenate(counts) if counts else np.zeros(0, dtype=np.int64))[order]
        self._set_postings(term_of[order], docs[order], tf.astype(np.int32), lengths)

    def _set_postings(
        self,
        term_of: npt.NDArray[np.int32],
        doc_of: npt.NDArray[np.int32],
        tf: npt.NDArray[np.int32],
        lengths: Floats,
    ) -> None:
        """Weigh the postings: the BM25 term-frequency part with its length norm, so that a
        query only multiplies by idf; one slice of `_docs` and `_weights` per term."""
        self.lengths = lengths
        self.avgdl = float(lengths.mean()) if len(lengths) and lengths.mean() else 1.0
        counts = tf.astype(np.float64)
        norm = BM25_K1 * (1 - BM25_B + BM25_B * lengths[doc_of] / self.avgdl)
        self._weights = (counts * (BM25_K1 + 1) / (counts + norm)).astype(np.float32)
        self._docs = doc_of
        self._tf = tf  # kept for `with_changes`, which weighs every posting again
        size = len(self.vocabulary)
        self._words = list(self.vocabulary)  # term ids are insertion order
        self._starts = np.searchsorted(term_of, np.arange(size + 1)).astype(np.int64)
        self.df = np.diff(self._starts).astype(np.float64)

    def _build_vectors(self, vectors: list[Vector | None]) -> None:
        dims = next((len(v) for v in vectors if v is not None), 0)
        has_vector = np.array([v is not None and len(v) == dims for v in vectors], dtype=np.bool_)
        raw = np.zeros((len(vectors), dims), dtype=np.float32)
        for n, vector in enumerate(vectors):
            if has_vector[n]:
                raw[n] = np.asarray(vector, dtype=np.float32)
        self._set_vectors(raw, has_vector)

    def _set_vectors(self, raw: npt.NDArray[np.float32], has_vector: Mask) -> None:
        """Centre the vectors on their mean and scale each to unit length (`raw` is kept for
        `with_changes`, which centres them again on the new mean)."""
        self._raw = raw
        self.has_vector = has_vector
        # Static embeddings of long texts share a common direction; without it the cosine
        # compares what is particular to each incident.
        self.center = (
            raw[has_vector].mean(axis=0)
            if has_vector.sum() > 1
            else np.zeros(raw.shape[1], dtype=np.float32)
        )
        matrix = raw - self.center
        matrix[~has_vector] = 0.0
        self._without_vector = np.flatnonzero(~has_vector)  # few or none: cheap to mask
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
        when, written = stamp(query.happened), stamp(query.created_at)
        same = self.happened == when
        tie = (self.created_stamps < written) | (
            (self.created_stamps == written) & (self.ids < query.id)
        )
        mask: Mask = ((self.happened < when) | (same & tie)) & (self.ids != query.id)
        return mask
