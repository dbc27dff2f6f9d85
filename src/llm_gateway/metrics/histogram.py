"""Log-bucketed latency histograms: O(1) to record, percentiles within 1%.

Bucket ``i`` holds the latencies in ``(GAMMA**(i-1), GAMMA**i]`` (offset so that index 0
is the smallest bucket we keep). Reporting a bucket by the value ``2 * GAMMA**i /
(GAMMA + 1)`` puts it within :data:`RELATIVE_ACCURACY` of every latency the bucket can
hold, so a percentile read from the histogram is within 1% of the exact percentile of the
recorded data: the walk finds the very bucket that holds the exact nearest-rank value.

The range is 10 µs to one hour (986 buckets); latencies outside it are clamped to the
edge buckets, the only place the 1% bound does not hold.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from llm_gateway.metrics.snapshot import Percentiles

RELATIVE_ACCURACY = 0.01
GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY)
MIN_LATENCY_S = 1e-5
MAX_LATENCY_S = 3600.0

_INV_LOG_GAMMA = 1 / math.log(GAMMA)
_OFFSET = math.ceil(math.log(MIN_LATENCY_S) * _INV_LOG_GAMMA)
BUCKETS = math.ceil(math.log(MAX_LATENCY_S) * _INV_LOG_GAMMA) - _OFFSET + 1
"""How many buckets a dense histogram needs."""

_TOP = BUCKETS - 1
_PERCENTS = (50, 95, 99)


def bucket_of(latency_s: float) -> int:
    """The bucket index for a latency in seconds."""
    if latency_s <= MIN_LATENCY_S:
        return 0
    if latency_s >= MAX_LATENCY_S:
        return _TOP
    return math.ceil(math.log(latency_s) * _INV_LOG_GAMMA) - _OFFSET


def bucket_value(index: int) -> float:
    """The latency, in seconds, that stands for every latency in bucket ``index``."""
    return 2 * GAMMA ** (index + _OFFSET) / (GAMMA + 1)


def percentiles(counts: Iterable[tuple[int, int]], total: int) -> Percentiles:
    """p50/p95/p99 of a histogram given as ``(bucket, count)`` pairs in bucket order.

    Nearest-rank definition: the q-th percentile of n values is the value of rank
    ``ceil(q * n)``, so with one request every percentile is that request.
    """
    if total <= 0:
        return Percentiles()
    # Integer ceiling: 0.95 * 100 is 95.00000000000001 in floating point.
    ranks = [max(1, -(-percent * total // 100)) for percent in _PERCENTS]
    found: list[float] = []
    seen = 0
    for index, count in counts:
        seen += count
        while len(found) < len(ranks) and seen >= ranks[len(found)]:
            found.append(bucket_value(index))
        if len(found) == len(ranks):
            break
    return Percentiles(p50=found[0], p95=found[1], p99=found[2])


def sparse_percentiles(counts: dict[int, int]) -> Percentiles:
    """Percentiles of a sparse ``{bucket: count}`` histogram."""
    return percentiles(sorted(counts.items()), sum(counts.values()))


def dense_percentiles(counts: list[int], total: int) -> Percentiles:
    """Percentiles of a dense histogram (one count per bucket) holding ``total`` values."""
    return percentiles(((index, count) for index, count in enumerate(counts) if count), total)
