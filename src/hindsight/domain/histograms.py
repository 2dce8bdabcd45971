"""Log-bucketed histograms: the median and p90 of many durations from a few counts.

The insights keep their response times, close times and days to publish as counts per bucket
(storage/insight_rollups.py adds and subtracts them as incidents change), so the dashboard
reads a few thousand rows instead of every incident. Buckets are those of Prometheus' native
histograms at its default schema 3: bucket `i` holds the values in (2^((i-1)/8), 2^(i/8)],
each about 9 % wider than the one below it; zero has a bucket of its own. Each bucket keeps
how many values fell in it and their sum, and a value at a rank is estimated as the mean of
its bucket: within the bucket's bounds, so never more than 9 % off, and exact when the
bucket's values are equal (the known-by-construction cases of the tests).

The ranks are those of analysis/insights.py: the median is the middle value (the mean of the
two middle ones for an even count), p90 the nearest rank. The dashboard's duration bands
(BANDS) and the severities whose publication it follows (SERIOUS) are here too, since the
rollups (storage) count by them. No IO.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

# Distribution bands of response times: (label, upper bound in minutes, exclusive; None = no
# bound).
BANDS: tuple[tuple[str, float | None], ...] = (
    ("< 5 min", 5),
    ("5-15 min", 15),
    ("15-30 min", 30),
    ("30-60 min", 60),
    ("1-4 h", 240),
    ("4-24 h", 1440),
    ("≥ 1 day", None),
)
_BOUNDS = [bound for _, bound in BANDS if bound is not None]
SERIOUS = ("SEV1", "SEV2")  # the severities whose postmortems' publication is followed

SCHEMA = 3
_PER_OCTAVE = 8  # 2 ** SCHEMA buckets per doubling
ZERO_BUCKET = -(2**31)  # the bucket of the value 0 (below every other)


def band_of(minutes: float) -> int:
    """The index in BANDS of the band a duration falls in."""
    return bisect.bisect_right(_BOUNDS, minutes)


def bucket_of(value: float) -> int:
    """The bucket a non-negative value falls in."""
    if value < 0:
        raise ValueError(f"a histogram holds no negative value ({value})")
    if value == 0:
        return ZERO_BUCKET
    return math.ceil(math.log2(value) * _PER_OCTAVE)


@dataclass
class Histogram:
    """Counts and sums per bucket of a set of non-negative values."""

    # bucket -> count, and bucket -> sum: two maps of numbers rather than a list per bucket,
    # so that a dashboard's tens of thousands of buckets are not as many objects for the
    # garbage collector to visit.
    counts: dict[int, float] = field(default_factory=dict)
    totals: dict[int, float] = field(default_factory=dict)

    @classmethod
    def of(cls, values: Iterable[float]) -> Histogram:
        """The histogram of these values."""
        histogram = cls()
        for value in values:
            histogram.add(value)
        return histogram

    def add(self, value: float) -> None:
        """Count one value."""
        self.add_bucket(bucket_of(value), 1, value)

    def add_bucket(self, bucket: int, count: float, total: float) -> None:
        """Count `count` values summing to `total` in `bucket` (negative counts subtract)."""
        self.counts[bucket] = self.counts.get(bucket, 0.0) + count
        self.totals[bucket] = self.totals.get(bucket, 0.0) + total

    def merge(self, other: Histogram) -> None:
        """Add another histogram's values to this one."""
        for bucket, count in other.counts.items():
            self.add_bucket(bucket, count, other.totals[bucket])

    @property
    def count(self) -> int:
        """How many values it holds."""
        return round(sum(self.counts.values()))

    def _means(self) -> Iterator[tuple[int, float]]:
        """(count, estimate) per non-empty bucket, lowest first."""
        for bucket in sorted(self.counts):
            count, total = self.counts[bucket], self.totals[bucket]
            whole = round(count)
            if whole > 0:
                yield whole, (0.0 if bucket == ZERO_BUCKET else total / count)

    def at_ranks(self, ranks: Sequence[int]) -> list[float]:
        """The estimated value at each 1-based rank, from 1 to `count`."""
        found: dict[int, float] = {}
        seen, mean = 0, 0.0
        means = self._means()
        for rank in sorted(set(ranks)):
            while seen < rank:
                count, mean = next(means)
                seen += count
            found[rank] = mean
        return [found[rank] for rank in ranks]

    def median(self) -> float | None:
        """The middle value (the mean of the two middle ones for an even count)."""
        count = self.count
        if count == 0:
            return None
        if count % 2:
            return self.at_ranks([(count + 1) // 2])[0]
        low, high = self.at_ranks([count // 2, count // 2 + 1])
        return (low + high) / 2

    def percentile(self, share: float) -> float | None:
        """Nearest rank: the value with at least `share` of the values at or below it."""
        count = self.count
        if count == 0:
            return None
        return self.at_ranks([max(1, math.ceil(share * count))])[0]
