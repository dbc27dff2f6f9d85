"""Microbenchmark: what metrics cost per request, and how much memory they hold.

1. Record cost: ``request_started`` plus ``request_finished`` on a worker's
   :class:`IntervalRecorder`, in microseconds per request (each request a real
   ``Exchange``, which the recorder holds in its table of requests in flight in between),
   and the per-request share of shipping (taking the interval and encoding it every 250 ms
   at 5,000 requests/s).
2. Memory: 15 simulated minutes at 5,000 requests/s over 4 workers, driven by an injected
   clock: every 250 ms each worker's interval is encoded, decoded and merged, as the
   supervisor does. Traced with :mod:`tracemalloc`; then 15 more minutes, to show the
   figure does not grow with uptime.

Run: ``.venv/bin/python bench/metrics_record.py``
"""

from __future__ import annotations

import gc
import itertools
import math
import random
import time
import tracemalloc

import orjson

from llm_gateway.errors import ERROR_TYPES
from llm_gateway.frontends.exchange import Exchange
from llm_gateway.metrics.aggregator import Aggregator
from llm_gateway.metrics.interval import Interval, IntervalRecorder
from llm_gateway.metrics.record import NullMetrics, RequestRecord

RATE = 5_000
WORKERS = 4
INTERVAL_S = 0.25
MINUTES = 15
MODELS = ("gpt-4o", "gpt-4o-mini", "claude-sonnet-4", "claude-haiku", "o3")
CLIENTS = ("alice", "bob", "ci", "key-…a1b2")


def sample_records(count: int, seed: int = 1) -> list[RequestRecord]:
    """Realistic variety: log-normal latencies, five models, four clients, 2% errors."""
    rng = random.Random(seed)
    records = []
    for _ in range(count):
        failed = rng.random() < 0.02
        records.append(
            RequestRecord(
                model=rng.choice(MODELS),
                status=502 if failed else 200,
                latency_s=rng.lognormvariate(math.log(0.4), 1.0),
                input_tokens=rng.randrange(10, 4000),
                output_tokens=0 if failed else rng.randrange(1, 1000),
                error_type=rng.choice(ERROR_TYPES) if failed else None,
                client=rng.choice(CLIENTS),
            )
        )
    return records


Request = tuple[Exchange, RequestRecord]


OPEN = 1_000
"""Distinct requests the records take turns on: a busy worker's open requests, each recently
used by its request path, as an ``Exchange`` is when the hooks see it."""


def sample_requests(records: list[RequestRecord]) -> list[Request]:
    """Each record with the open request it finishes, made beforehand (not timed)."""
    exchanges = [
        Exchange(NullMetrics(), time.monotonic, "POST", "/v1/chat/completions", "openai")
        for _ in range(OPEN)
    ]
    return [(exchanges[n % OPEN], record) for n, record in enumerate(records)]


def record_cost(requests: list[Request], count: int = 1_000_000) -> float:
    """Microseconds per request for started + finished."""
    recorder = IntervalRecorder()
    started, finished = recorder.request_started, recorder.request_finished
    stream = list(itertools.islice(itertools.cycle(requests), count))
    gc.collect()
    begin = time.perf_counter()
    for request, record in stream:
        started(request)
        finished(request, record)
    elapsed = time.perf_counter() - begin
    return elapsed / count * 1e6


def shipping_cost(requests: list[Request], intervals: int = 400) -> float:
    """Microseconds per request for take() + encode, at one worker's share of the rate."""
    per_interval = int(RATE * INTERVAL_S / WORKERS)
    recorder = IntervalRecorder()
    batches = [requests[i : i + per_interval] for i in range(0, len(requests), per_interval)]
    spent = 0.0
    for batch in itertools.islice(itertools.cycle(batches), intervals):
        for request, record in batch:
            recorder.request_started(request)
            recorder.request_finished(request, record)
        begin = time.perf_counter()
        orjson.dumps(recorder.take().to_wire())
        spent += time.perf_counter() - begin
    return spent / (intervals * per_interval) * 1e6


def simulate(
    aggregator: Aggregator, clock: list[float], minutes: int, requests: list[Request]
) -> None:
    """Drive ``minutes`` of traffic through worker recorders into the aggregator."""
    recorders = [IntervalRecorder(clock=lambda: clock[0]) for _ in range(WORKERS)]
    per_worker = int(RATE * INTERVAL_S / WORKERS)
    offset = 0
    for tick in range(int(minutes * 60 / INTERVAL_S)):
        for index, recorder in enumerate(recorders, start=1):
            if offset + per_worker > len(requests):
                offset = 0
            for request, record in requests[offset : offset + per_worker]:
                recorder.request_started(request)
                recorder.request_finished(request, record)
            offset += per_worker
            wire = orjson.loads(orjson.dumps(recorder.take().to_wire()))
            aggregator.merge(index, Interval.from_wire(wire))
        clock[0] += INTERVAL_S
        if tick % 4 == 0:
            aggregator.snapshot()


def metrics_memory(requests: list[Request]) -> tuple[float, float]:
    """Bytes the aggregator holds after 15 minutes, and after 30."""
    clock = [0.0]
    tracemalloc.start()
    gc.collect()
    baseline = tracemalloc.get_traced_memory()[0]
    aggregator = Aggregator(clock=lambda: clock[0])
    figures = []
    for _ in range(2):
        simulate(aggregator, clock, MINUTES, requests)
        gc.collect()
        figures.append(tracemalloc.get_traced_memory()[0] - baseline)
    tracemalloc.stop()
    return figures[0], figures[1]


def main() -> None:
    requests = sample_requests(sample_records(50_000))
    record_us = min(record_cost(requests) for _ in range(3))
    ship_us = shipping_cost(requests)
    after_15, after_30 = metrics_memory(requests)
    mb = 1024 * 1024
    print(f"record cost: {record_us:.2f} us/request (started + finished)")
    print(
        f"shipping cost: {ship_us:.3f} us/request (take + encode, every {INTERVAL_S * 1000:.0f} ms)"
    )
    print(f"metrics memory after {MINUTES} min at {RATE} req/s: {after_15 / mb:.2f} MB")
    print(f"metrics memory after {2 * MINUTES} min at {RATE} req/s: {after_30 / mb:.2f} MB")


if __name__ == "__main__":
    main()
