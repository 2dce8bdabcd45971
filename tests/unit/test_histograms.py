"""Log-bucketed histograms (analysis/histograms.py): exact where a bucket's values are equal,
within a bucket's width (9 %) of the exact median and p90 otherwise, and the same after
adding and subtracting (as the rollups do)."""

from __future__ import annotations

import math
import statistics

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hindsight.analysis.insights import percentile
from hindsight.domain.histograms import ZERO_BUCKET, Histogram, bucket_of

GROWTH = 2 ** (1 / 8)
values = st.lists(st.floats(min_value=0, max_value=1e8, allow_nan=False), min_size=1)


def test_buckets_are_prometheus_schema_3_and_zero_has_its_own() -> None:
    assert bucket_of(1.0) == 0
    assert bucket_of(2.0) == 8  # (2^(7/8), 2^(8/8)]
    assert bucket_of(2.01) == 9
    assert bucket_of(0.0) == ZERO_BUCKET
    with pytest.raises(ValueError, match="no negative value"):
        bucket_of(-1.0)


def test_equal_values_in_a_bucket_give_exact_answers() -> None:
    histogram = Histogram.of([600.0, 1200.0, 1800.0, 300.0])  # each in its own bucket
    assert histogram.median() == statistics.median([600.0, 1200.0, 1800.0, 300.0])
    assert histogram.percentile(0.9) == 1800.0
    assert Histogram().median() is None and Histogram().percentile(0.9) is None


@given(values)
def test_median_and_p90_are_within_a_bucket_of_the_exact_ones(found: list[float]) -> None:
    histogram = Histogram.of(found)
    p90 = histogram.percentile(0.9)
    exact = percentile(found, 0.9)
    assert p90 is not None and exact is not None
    assert math.isclose(p90, exact, rel_tol=GROWTH - 1 + 1e-9, abs_tol=1e-9)
    median, middle = histogram.median(), statistics.median(found)
    assert median is not None
    assert math.isclose(median, middle, rel_tol=GROWTH - 1 + 1e-9, abs_tol=1e-9)


@given(values, values)
def test_subtracting_what_was_added_leaves_the_histogram_of_the_rest(
    kept: list[float], removed: list[float]
) -> None:
    histogram = Histogram.of(kept + removed)
    for value in removed:
        histogram.add_bucket(bucket_of(value), -1, -value)
    assert histogram.count == len(kept)
    assert histogram.median() == pytest.approx(Histogram.of(kept).median(), rel=1e-6, abs=1e-6)
