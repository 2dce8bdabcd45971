"""The values the similarity index (analysis/similarity_index.py) is built from and answers
in: an incident's profile, the three similarity parts of a query, and the array types. Pure.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

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


class Vocabulary(dict[str, int]):
    """Term ids in order of first sight."""

    def __missing__(self, term: str) -> int:
        self[term] = number = len(self)
        return number


def stamp(at: dt.datetime) -> float:
    return at.timestamp()
