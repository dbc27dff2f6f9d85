"""The aggregator, driven by an injected clock: totals, windows, history, workers, models."""

from __future__ import annotations

import math
import random

import pytest

from llm_gateway.errors import ErrorType
from llm_gateway.metrics.aggregator import MAX_MODEL_NAME, OTHER_MODELS, Aggregator
from llm_gateway.metrics.histogram import RELATIVE_ACCURACY
from llm_gateway.metrics.interval import Interval, IntervalRecorder
from llm_gateway.metrics.record import RequestRecord
from llm_gateway.metrics.snapshot import Resources


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def interval(*records: RequestRecord, started: int | None = None) -> Interval:
    """An interval in which ``started`` requests began (default: as many as finished)."""
    recorder = IntervalRecorder()
    for _ in range(len(records) if started is None else started):
        recorder.request_started()
    for record in records:
        recorder.request_finished(record)
    return recorder.take()


def ok(model: str = "m", latency: float = 0.1, tokens: tuple[int, int] = (0, 0)) -> RequestRecord:
    return RequestRecord(model, 200, latency, input_tokens=tokens[0], output_tokens=tokens[1])


def failed(kind: ErrorType, model: str = "m") -> RequestRecord:
    return RequestRecord(model, 500, 0.1, error_type=kind)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_totals_count_requests_errors_disconnects_and_tokens(clock: Clock) -> None:
    metrics = Aggregator(clock=clock)
    metrics.merge(
        1,
        interval(
            ok(tokens=(10, 20)),
            ok(tokens=(1, 2)),
            failed("auth"),
            failed("timeout"),
            failed("timeout"),
            RequestRecord("m", 499, 0.1, input_tokens=4),
        ),
    )

    snap = metrics.snapshot()

    assert snap.requests_total == 6
    assert snap.errors_total == 3
    assert snap.client_closed_total == 1
    assert snap.errors_by_type == {
        "auth": 1,
        "validation": 0,
        "upstream": 0,
        "timeout": 2,
        "internal": 0,
    }
    assert (snap.input_tokens_total, snap.output_tokens_total) == (15, 22)
    assert (snap.last_input_tokens, snap.last_output_tokens) == (4, 0)
    assert snap.avg_input_tokens == pytest.approx(15 / 6)
    assert snap.credits_total is None
    assert not snap.tokens_estimated


def test_merging_several_workers_adds_them_up(clock: Clock) -> None:
    metrics = Aggregator(clock=clock)
    workers = {index: IntervalRecorder() for index in (1, 2, 3)}
    for index in workers:
        metrics.worker_joined(index)

    def serve(worker: int, started: int, *records: RequestRecord) -> None:
        for _ in range(started):
            workers[worker].request_started()
        for record in records:
            workers[worker].request_finished(record)
        metrics.merge(worker, workers[worker].take())

    serve(1, 5, ok("a"), ok("a"))
    serve(2, 3, ok("b"), failed("upstream", "a"))
    serve(3, 0)
    clock.advance(0.25)
    serve(1, 0, ok("a"))

    snap = metrics.snapshot()

    assert snap.workers == 3
    assert snap.requests_total == 5
    assert snap.errors_by_type["upstream"] == 1
    # Worker 1: 5 started, 3 finished; worker 2: 3 started, 2 finished.
    assert snap.active_connections == 2 + 1
    assert {m.model: (m.requests, m.errors) for m in snap.models} == {"a": (4, 1), "b": (1, 0)}


def test_a_worker_that_leaves_takes_its_in_flight_requests_with_it(clock: Clock) -> None:
    metrics = Aggregator(clock=clock)
    metrics.worker_joined(1)
    metrics.worker_joined(2)
    metrics.merge(1, interval(started=4))
    metrics.merge(2, interval(started=1))
    assert metrics.snapshot().active_connections == 5

    metrics.worker_left(1)

    snap = metrics.snapshot()
    assert (snap.active_connections, snap.workers) == (1, 1)


def test_per_model_breakdown_with_latency_shares_and_order(clock: Clock) -> None:
    metrics = Aggregator(clock=clock)
    metrics.merge(
        1,
        interval(
            ok("fast", 0.01, (1, 1)),
            ok("fast", 0.01, (1, 1)),
            ok("fast", 0.01, (1, 1)),
            ok("slow", 2.0, (5, 50)),
            RequestRecord("kiro", 200, 1.0, 3, 4, tokens_estimated=True, credits=0.2),
        ),
    )

    models = metrics.snapshot().models

    assert [m.model for m in models] == ["fast", "kiro", "slow"]
    fast, kiro, slow = models
    assert fast.share == pytest.approx(0.6)
    assert fast.latency.p99 == pytest.approx(0.01, rel=RELATIVE_ACCURACY)
    assert slow.latency.p50 == pytest.approx(2.0, rel=RELATIVE_ACCURACY)
    assert (slow.input_tokens, slow.output_tokens) == (5, 50)
    assert kiro.tokens_estimated and kiro.credits == pytest.approx(0.2)
    assert not fast.tokens_estimated and fast.credits is None


def test_models_beyond_the_cap_share_one_row_and_names_are_cut(clock: Clock) -> None:
    metrics = Aggregator(clock=clock, max_models=2)
    metrics.merge(1, interval(ok("a"), ok("b"), ok("c"), ok("d"), ok("x" * 1000)))

    rows = {m.model: m.requests for m in metrics.snapshot().models}

    assert rows == {"a": 1, "b": 1, OTHER_MODELS: 3}
    wide = Aggregator(clock=clock)
    wide.merge(1, interval(ok("x" * 1000)))
    assert wide.snapshot().models[0].model == "x" * MAX_MODEL_NAME


def test_window_percentiles_match_exact_ones_and_expire_after_the_window(clock: Clock) -> None:
    metrics = Aggregator(clock=clock, window_s=60)
    rng = random.Random(7)
    latencies: list[float] = []
    for _ in range(30):
        batch = [rng.lognormvariate(math.log(0.3), 0.8) for _ in range(50)]
        latencies += batch
        metrics.merge(1, interval(*(ok(latency=value) for value in batch)))
        clock.advance(1.0)

    window = metrics.snapshot().latency
    ordered = sorted(latencies)
    for percent, value in ((50, window.p50), (95, window.p95), (99, window.p99)):
        exact = ordered[math.ceil(percent * len(ordered) / 100) - 1]
        assert value == pytest.approx(exact, rel=RELATIVE_ACCURACY * (1 + 1e-9))

    clock.advance(60.0)
    quiet = metrics.snapshot()
    assert quiet.latency.p50 is None
    assert quiet.error_share_by_type["timeout"] == 0.0
    assert quiet.requests_total == 1500


def test_the_window_slides_a_second_at_a_time(clock: Clock) -> None:
    metrics = Aggregator(clock=clock, window_s=10, rate_window_s=2)
    metrics.merge(1, interval(ok(latency=5.0)))
    clock.advance(5.0)
    metrics.merge(1, interval(ok(latency=0.5)))
    assert metrics.snapshot().latency.p99 == pytest.approx(5.0, rel=RELATIVE_ACCURACY)

    clock.advance(5.0)
    recent = metrics.snapshot().latency
    assert recent.p50 == recent.p99 == pytest.approx(0.5, rel=RELATIVE_ACCURACY)


def test_rates_and_error_shares(clock: Clock) -> None:
    metrics = Aggregator(clock=clock, window_s=60, rate_window_s=5)
    for _ in range(10):
        metrics.merge(
            1,
            interval(*([ok(tokens=(2, 3))] * 8), failed("upstream"), failed("validation")),
        )
        clock.advance(1.0)

    snap = metrics.snapshot()

    assert snap.request_rate == pytest.approx(10.0)
    assert snap.tokens_per_s == pytest.approx(40.0)
    assert snap.error_rate_by_type["upstream"] == pytest.approx(1.0)
    assert snap.error_rate_by_type["auth"] == 0.0
    assert snap.error_share_by_type["validation"] == pytest.approx(0.1)


def test_history_is_one_point_per_second_and_keeps_fifteen_minutes(clock: Clock) -> None:
    metrics = Aggregator(clock=clock)
    metrics.worker_joined(1)
    metrics.record_resources(Resources(gateway_cpu_percent=12.5, gateway_memory_bytes=1 << 20))
    metrics.merge(1, interval(ok(latency=0.2, tokens=(1, 1)), started=3))
    clock.advance(1.0)

    first = metrics.snapshot().series
    assert first.step_s == 1.0
    assert first.requests_per_s == (1.0,)
    assert first.tokens_per_s == (2.0,)
    assert first.active_connections == (2,)
    assert first.p50_s[0] == pytest.approx(0.2, rel=RELATIVE_ACCURACY)
    assert first.gateway_cpu_percent == (12.5,)
    assert first.gateway_memory_bytes == (1 << 20,)

    clock.advance(899.0)
    full = metrics.snapshot().series
    assert len(full.requests_per_s) == 900
    assert full.requests_per_s[0] == 1.0
    assert full.p50_s[1] is None

    clock.advance(1.0)
    expired = metrics.snapshot()
    assert len(expired.series.requests_per_s) == 900
    assert set(expired.series.requests_per_s) == {0.0}
    assert expired.uptime_s == pytest.approx(901.0)


def test_a_long_silence_is_skipped_without_replaying_every_second(clock: Clock) -> None:
    metrics = Aggregator(clock=clock)
    metrics.merge(1, interval(ok()))
    clock.advance(1e9)

    snap = metrics.snapshot()

    assert len(snap.series.requests_per_s) == 900
    assert set(snap.series.requests_per_s) == {0.0}
    assert snap.latency.p50 is None
    clock.advance(1.0)
    metrics.merge(1, interval(ok()))
    assert metrics.snapshot().latency.p50 is not None


def test_rate_window_must_fit_in_the_window() -> None:
    with pytest.raises(ValueError, match="rate_window_s"):
        Aggregator(window_s=5, rate_window_s=5)
