"""The aggregator, driven by an injected clock: totals, windows, history, workers, models."""

from __future__ import annotations

import gc
import itertools
import math
import random
import tracemalloc
from dataclasses import replace

import pytest

from llm_gateway.config import ConnectionLimits
from llm_gateway.errors import ErrorType
from llm_gateway.frontends.exchange import Exchange
from llm_gateway.metrics.aggregator import MAX_MODEL_NAME, Aggregator
from llm_gateway.metrics.connections import ConnectionCounts
from llm_gateway.metrics.histogram import RELATIVE_ACCURACY
from llm_gateway.metrics.interval import (
    MAX_CLIENT_ROWS,
    MAX_MODEL_ROWS,
    OTHER_CLIENTS,
    OTHER_MODELS,
    Interval,
    IntervalRecorder,
    ModelInterval,
)
from llm_gateway.metrics.record import RequestRecord
from llm_gateway.metrics.snapshot import ClientStats, Connections, Percentiles, Resources
from tests.exchanges import served, unattached


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def interval(clock: Clock, *records: RequestRecord, started: int | None = None) -> Interval:
    """An interval taken now, in which ``started`` requests began (default: as many as finished)."""
    recorder = IntervalRecorder(clock=clock)
    requests = [unattached(clock) for _ in range(len(records) if started is None else started)]
    for request in requests:
        recorder.request_started(request)
    for request, record in zip(requests, records, strict=False):
        recorder.request_finished(request, record)
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
            clock,
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
    workers = {index: IntervalRecorder(clock=clock) for index in (1, 2, 3)}
    open_requests: dict[int, list[Exchange]] = {index: [] for index in workers}
    for index in workers:
        metrics.worker_joined(index)

    def serve(worker: int, started: int, *records: RequestRecord) -> None:
        for _ in range(started):
            request = unattached(clock)
            open_requests[worker].append(request)
            workers[worker].request_started(request)
        for record in records:
            workers[worker].request_finished(open_requests[worker].pop(0), record)
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
    metrics.merge(1, interval(clock, started=4))
    metrics.merge(2, interval(clock, started=1))
    assert metrics.snapshot().active_connections == 5

    metrics.worker_left(1)

    snap = metrics.snapshot()
    assert (snap.active_connections, snap.workers) == (1, 1)


def test_requests_waiting_for_an_upstream_connection_add_up_over_the_workers(
    clock: Clock,
) -> None:
    metrics = Aggregator(clock=clock)
    for worker, waiting in ((1, 3), (2, 1)):
        recorder = IntervalRecorder(clock=clock)
        for _ in range(waiting + 1):
            recorder.connection_wait_started()
        recorder.connection_wait_finished()
        metrics.worker_joined(worker)
        metrics.merge(worker, Interval.from_wire(recorder.take().to_wire()))
    assert metrics.snapshot().waiting_for_upstream == 4

    metrics.worker_left(1)

    assert metrics.snapshot().waiting_for_upstream == 1


def test_per_model_breakdown_with_latency_shares_and_order(clock: Clock) -> None:
    metrics = Aggregator(clock=clock)
    metrics.merge(
        1,
        interval(
            clock,
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
    metrics.merge(1, interval(clock, ok("a"), ok("b"), ok("c"), ok("d"), ok("x" * 1000)))

    rows = {m.model: m.requests for m in metrics.snapshot().models}

    assert rows == {"a": 1, "b": 1, OTHER_MODELS: 3}
    assert metrics.snapshot().models_capped
    wide = Aggregator(clock=clock)
    wide.merge(1, interval(clock, ok("x" * 1000)))
    assert wide.snapshot().models[0].model == "x" * MAX_MODEL_NAME


def test_window_percentiles_match_exact_ones_and_expire_after_the_window(clock: Clock) -> None:
    metrics = Aggregator(clock=clock, window_s=60)
    rng = random.Random(7)
    latencies: list[float] = []
    for _ in range(30):
        batch = [rng.lognormvariate(math.log(0.3), 0.8) for _ in range(50)]
        latencies += batch
        metrics.merge(1, interval(clock, *(ok(latency=value) for value in batch)))
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
    metrics.merge(1, interval(clock, ok(latency=5.0)))
    clock.advance(5.0)
    metrics.merge(1, interval(clock, ok(latency=0.5)))
    assert metrics.snapshot().latency.p99 == pytest.approx(5.0, rel=RELATIVE_ACCURACY)

    clock.advance(5.0)
    recent = metrics.snapshot().latency
    assert recent.p50 == recent.p99 == pytest.approx(0.5, rel=RELATIVE_ACCURACY)


def test_rates_and_error_shares(clock: Clock) -> None:
    metrics = Aggregator(clock=clock, window_s=60, rate_window_s=5)
    for _ in range(10):
        metrics.merge(
            1,
            interval(clock, *([ok(tokens=(2, 3))] * 8), failed("upstream"), failed("validation")),
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
    metrics.merge(1, interval(clock, ok(latency=0.2, tokens=(1, 1)), started=3))
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
    metrics.merge(1, interval(clock, ok()))
    clock.advance(1e9)

    snap = metrics.snapshot()

    assert len(snap.series.requests_per_s) == 900
    assert set(snap.series.requests_per_s) == {0.0}
    assert snap.latency.p50 is None
    clock.advance(1.0)
    metrics.merge(1, interval(clock, ok()))
    assert metrics.snapshot().latency.p50 is not None


def test_rate_window_must_fit_in_the_window() -> None:
    with pytest.raises(ValueError, match="rate_window_s"):
        Aggregator(window_s=5, rate_window_s=5)


def test_a_late_report_is_filed_under_the_second_it_was_taken(clock: Clock) -> None:
    metrics = Aggregator(clock=clock, window_s=60, rate_window_s=5)
    clock.advance(3.5)
    # 20 requests: 18 at 100 ms (one of them a timeout), one at 1 s, one at 2 s.
    at_3 = interval(
        clock,
        *[ok(latency=0.1, tokens=(2, 3))] * 17,
        failed("timeout"),
        ok(latency=1.0),
        ok(latency=2.0),
    )
    clock.advance(2.0)
    at_5 = interval(clock, *[ok(tokens=(1, 1))] * 5)
    clock.advance(5.0)  # 10.5 s: the supervisor reads both only now
    metrics.merge(1, at_3)
    metrics.merge(1, at_5)

    snap = metrics.snapshot()

    series = snap.series
    assert series.requests_per_s == (0, 0, 0, 20, 0, 5, 0, 0, 0, 0)
    assert series.errors_per_s == (0, 0, 0, 1, 0, 0, 0, 0, 0, 0)
    assert series.tokens_per_s == (0, 0, 0, 85, 0, 10, 0, 0, 0, 0)
    assert series.p50_s[3] == pytest.approx(0.1, rel=RELATIVE_ACCURACY)
    assert series.p95_s[3] == pytest.approx(1.0, rel=RELATIVE_ACCURACY)
    assert series.p99_s[3] == pytest.approx(2.0, rel=RELATIVE_ACCURACY)
    assert [second for second, p99 in enumerate(series.p99_s) if p99 is not None] == [3, 5]
    # The rates read seconds 5 to 9: second 5's requests, none of second 3's.
    assert snap.request_rate == pytest.approx(1.0)
    assert snap.tokens_per_s == pytest.approx(2.0)
    assert snap.error_rate_by_type["timeout"] == 0.0
    assert snap.requests_total == 25
    assert snap.latency.p99 == pytest.approx(2.0, rel=RELATIVE_ACCURACY)

    clock.advance(1.0)
    assert metrics.snapshot().series.requests_per_s[10] == 0.0


def test_a_burst_of_late_reports_draws_the_steady_rate_they_were_taken_at(clock: Clock) -> None:
    metrics = Aggregator(clock=clock, window_s=60, rate_window_s=5)
    stalled: list[Interval] = []
    for _ in range(40):  # every 250 ms for 10 s, 5 requests each: 20 requests/s
        stalled.append(interval(clock, *[ok(tokens=(1, 1))] * 5))
        clock.advance(0.25)
    clock.advance(0.5)  # the supervisor gets the CPU back and reads all 40 in one go
    for report in stalled:
        metrics.merge(1, report)

    snap = metrics.snapshot()

    assert snap.series.requests_per_s == (20.0,) * 10
    assert snap.series.tokens_per_s == (40.0,) * 10
    assert snap.request_rate == pytest.approx(20.0)
    clock.advance(1.0)
    assert metrics.snapshot().series.requests_per_s == (20.0,) * 10 + (0.0,)


def test_a_report_older_than_the_window_goes_to_the_oldest_second_held(clock: Clock) -> None:
    metrics = Aggregator(clock=clock, window_s=10, rate_window_s=2)
    old = interval(clock, ok(latency=5.0), failed("timeout"))  # taken in second 0
    clock.advance(20.5)  # second 20 is open; the window holds seconds 11 to 19
    metrics.merge(1, old)

    snap = metrics.snapshot()

    assert snap.series.requests_per_s == (0.0,) * 11 + (2.0,) + (0.0,) * 8
    assert snap.series.errors_per_s[11] == 1
    assert snap.latency.p99 == pytest.approx(5.0, rel=RELATIVE_ACCURACY)
    assert snap.error_share_by_type["timeout"] == pytest.approx(0.5)

    clock.advance(1.0)  # second 11 leaves the window, and the old report with it
    expired = metrics.snapshot()
    assert expired.latency == Percentiles()
    assert set(expired.error_share_by_type.values()) == {0.0}
    assert expired.series.requests_per_s[11] == 2.0
    # An empty window reads as empty whatever the sums hold: look at the sums themselves.
    assert metrics._window_requests == 0
    assert not any(metrics._window_latency)
    assert not any(metrics._window_errors.values())

    metrics.merge(1, interval(clock, ok(latency=0.2)))
    fresh = metrics.snapshot()
    assert fresh.latency.p50 == fresh.latency.p99 == pytest.approx(0.2, rel=RELATIVE_ACCURACY)
    assert fresh.error_share_by_type["timeout"] == 0.0


def test_a_report_stamped_after_our_now_goes_to_the_open_second(clock: Clock) -> None:
    metrics = Aggregator(clock=clock)
    clock.advance(2.5)
    metrics.merge(1, replace(interval(clock, ok()), ended_at=clock.now + 3.0))
    clock.advance(1.0)

    assert metrics.snapshot().series.requests_per_s == (0.0, 0.0, 1.0)


def test_right_after_start_late_reports_go_to_the_first_seconds(clock: Clock) -> None:
    metrics = Aggregator(clock=clock)
    before_start = clock.now - 5.0
    metrics.merge(1, replace(interval(clock, ok()), ended_at=before_start))
    # Nothing was closed yet: the open second 0 took it.
    clock.advance(0.75)
    just_before = interval(clock, ok(), ok())
    clock.advance(0.5)  # second 1: second 0, the history's only point, is closed
    metrics.merge(1, just_before)
    assert metrics.snapshot().series.requests_per_s == (3.0,)

    clock.advance(1.0)  # second 2: the history holds seconds 0 and 1
    metrics.merge(1, replace(interval(clock, ok()), ended_at=before_start))
    assert metrics.snapshot().series.requests_per_s == (4.0, 0.0)


def test_a_history_shorter_than_the_window_drops_the_point_not_the_counts(clock: Clock) -> None:
    metrics = Aggregator(clock=clock, window_s=20, rate_window_s=2, history_s=5)
    at_0 = interval(clock, ok(latency=3.0))
    clock.advance(12.5)
    at_12 = interval(clock, ok(), ok())
    clock.advance(3.0)  # second 15: the window holds seconds 0 to 14, the history 10 to 14
    metrics.merge(1, at_0)
    metrics.merge(1, at_12)

    snap = metrics.snapshot()

    assert snap.series.requests_per_s == (0.0, 0.0, 2.0, 0.0, 0.0)
    assert snap.latency.p99 == pytest.approx(3.0, rel=RELATIVE_ACCURACY)
    assert snap.requests_total == 3


def test_after_a_long_silence_late_reports_still_find_their_second(clock: Clock) -> None:
    metrics = Aggregator(clock=clock)
    clock.advance(1e9)
    late = replace(interval(clock, ok()), ended_at=clock.now - 2.5)
    metrics.merge(1, late)

    series = metrics.snapshot().series

    assert len(series.requests_per_s) == 900
    assert series.requests_per_s[-3:] == (1.0, 0.0, 0.0)
    assert sum(series.requests_per_s) == 1.0


def test_connections_add_up_across_workers_and_leave_with_them(clock: Clock) -> None:
    limits = ConnectionLimits(max_connections=10)
    aggregator = Aggregator(clock=clock, connection_limits=limits)
    for worker, counts in ((1, ConnectionCounts(5, 2, 1)), (2, ConnectionCounts(3, 1, 0))):
        aggregator.worker_joined(worker)
        aggregator.merge(worker, Interval(ended_at=clock(), connections=counts))
    aggregator.merge(1, Interval(ended_at=clock(), connections=ConnectionCounts(4, 1, 0)))
    assert aggregator.snapshot().connections == Connections(
        open=7, closed_slow=4, refused=1, limits=limits
    )
    aggregator.worker_left(2)
    assert aggregator.snapshot().connections.open == 4


def test_hostile_model_names_take_fixed_memory_in_the_worker_and_the_supervisor(
    clock: Clock,
) -> None:
    """Every request under a new name, as a client on a prefix route can send them."""
    metrics = Aggregator(clock=clock)
    recorder = IntervalRecorder(clock=clock)
    names = (f"oai-{n}" for n in itertools.count())

    def send(count: int) -> None:
        for _ in range(4):
            for _ in range(count // 4):
                served(recorder, ok(next(names)))
            taken = recorder.take()
            assert len(taken.models) <= MAX_MODEL_ROWS + 1
            metrics.merge(1, taken)
            clock.advance(0.25)

    send(8_000)
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    send(40_000)
    gc.collect()
    grown = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()

    snapshot = metrics.snapshot()
    assert len(snapshot.models) == MAX_MODEL_ROWS + 1
    assert snapshot.models_capped
    assert snapshot.requests_total == sum(m.requests for m in snapshot.models) == 48_000
    rows = {m.model: m.requests for m in snapshot.models}
    assert rows[OTHER_MODELS] == 48_000 - MAX_MODEL_ROWS
    # 40,000 more names cost nothing that stays (a few kB of allocator noise at most).
    assert grown < 64 * 1024, grown


def test_a_worker_counts_names_past_its_cap_under_one_row() -> None:
    recorder = IntervalRecorder()
    for n in range(MAX_MODEL_ROWS + 5):
        served(recorder, ok(f"m{n}"))

    models = recorder.take().models

    assert len(models) == MAX_MODEL_ROWS + 1
    assert models[OTHER_MODELS].requests == 5
    assert recorder.take().models == {}


def by(client: str, record: RequestRecord) -> RequestRecord:
    record.client = client
    return record


def test_clients_add_up_across_workers_busiest_first(clock: Clock) -> None:
    metrics = Aggregator(clock=clock)
    metrics.merge(
        1,
        interval(
            clock, by("alice", ok(latency=0.1, tokens=(10, 20))), by("bob", ok("n", latency=2.0))
        ),
    )
    clock.advance(0.25)
    metrics.merge(
        2,
        interval(
            clock,
            by("alice", ok("n", latency=0.3, tokens=(1, 2))),
            by("alice", failed("upstream")),
            by("(unauthenticated)", failed("auth")),
        ),
    )

    # Busiest first, then by label.
    alice, stranger, bob = metrics.snapshot().clients

    assert (alice.label, alice.requests, alice.errors, alice.input_tokens, alice.output_tokens) == (
        "alice",
        3,
        1,
        11,
        22,
    )
    assert alice.share == pytest.approx(3 / 5)
    assert alice.p50 == pytest.approx(0.1, rel=RELATIVE_ACCURACY)
    assert bob == ClientStats("bob", 1, 0, 0, 0, 0.2, bob.p50)
    assert bob.p50 == pytest.approx(2.0, rel=RELATIVE_ACCURACY)
    assert (stranger.label, stranger.requests, stranger.errors) == ("(unauthenticated)", 1, 1)
    assert sum(c.requests for c in metrics.snapshot().clients) == metrics.snapshot().requests_total


def test_clients_beyond_the_cap_share_one_row(clock: Clock) -> None:
    metrics = Aggregator(clock=clock)
    labels = [f"c{n:04d}" for n in range(MAX_CLIENT_ROWS + 3)]
    one_each = {label: {"m": ModelInterval(1, latency={5: 1})} for label in labels}
    metrics.merge(1, Interval(ended_at=clock(), rows=one_each))

    rows = {c.label: c.requests for c in metrics.snapshot().clients}

    assert len(rows) == MAX_CLIENT_ROWS + 1
    assert rows[OTHER_CLIENTS] == 3
