"""The latency histogram: every percentile within the stated 1% of the exact one."""

from __future__ import annotations

import math
import random

import pytest

from llm_gateway.metrics.histogram import (
    BUCKETS,
    MAX_LATENCY_S,
    MIN_LATENCY_S,
    RELATIVE_ACCURACY,
    bucket_of,
    bucket_value,
    dense_percentiles,
    sparse_percentiles,
)


def exact_percentile(values: list[float], percent: int) -> float:
    """Nearest rank: the value of rank ceil(p/100 * n) in sorted order."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(percent * len(ordered) / 100)) - 1]


def sparse(values: list[float]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for value in values:
        counts[bucket_of(value)] = counts.get(bucket_of(value), 0) + 1
    return counts


def test_each_latency_is_within_the_resolution_of_its_bucket_value() -> None:
    latency = MIN_LATENCY_S * 1.0001
    while latency < MAX_LATENCY_S:
        estimate = bucket_value(bucket_of(latency))
        assert abs(estimate - latency) <= RELATIVE_ACCURACY * latency * (1 + 1e-9)
        latency *= 1.003


def test_latencies_outside_the_range_land_in_the_edge_buckets() -> None:
    assert bucket_of(0.0) == 0
    assert bucket_of(MIN_LATENCY_S / 10) == 0
    assert bucket_of(MAX_LATENCY_S * 10) == BUCKETS - 1
    assert 0 < bucket_of(1.0) < BUCKETS - 1


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_percentiles_match_exact_percentiles_of_known_data(seed: int) -> None:
    rng = random.Random(seed)
    # Log-normal around 200 ms with a long tail, like real upstream latencies.
    values = [rng.lognormvariate(math.log(0.2), 1.2) for _ in range(5_000)]
    estimate = sparse_percentiles(sparse(values))
    for percent, value in ((50, estimate.p50), (95, estimate.p95), (99, estimate.p99)):
        exact = exact_percentile(values, percent)
        assert value is not None
        assert abs(value - exact) <= RELATIVE_ACCURACY * exact * (1 + 1e-9), percent


def test_dense_and_sparse_forms_agree() -> None:
    values = [0.001 * n for n in range(1, 1001)]
    dense = [0] * BUCKETS
    for value in values:
        dense[bucket_of(value)] += 1
    assert dense_percentiles(dense, len(values)) == sparse_percentiles(sparse(values))


def test_rank_uses_integer_arithmetic() -> None:
    # 95% of 100 is rank 95 exactly; floating point would say 95.00000000000001 -> 96.
    values = [float(n) for n in range(1, 101)]
    estimate = sparse_percentiles(sparse(values))
    assert estimate.p95 == pytest.approx(95.0, rel=RELATIVE_ACCURACY)
    assert estimate.p95 != pytest.approx(96.0, rel=RELATIVE_ACCURACY)


def test_no_values_means_no_percentiles_and_one_value_is_every_percentile() -> None:
    empty = sparse_percentiles({})
    assert (empty.p50, empty.p95, empty.p99) == (None, None, None)
    one = sparse_percentiles(sparse([0.25]))
    assert one.p50 == one.p95 == one.p99 == pytest.approx(0.25, rel=RELATIVE_ACCURACY)
