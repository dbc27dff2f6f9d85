"""The worker's sink: what one interval adds up to, and its wire form."""

from __future__ import annotations

import time

import orjson

from llm_gateway.errors import ErrorType
from llm_gateway.metrics.connections import ConnectionCounts
from llm_gateway.metrics.histogram import bucket_of
from llm_gateway.metrics.interval import (
    MAX_CLIENT_ROWS,
    OTHER_CLIENTS,
    ClientInterval,
    Interval,
    IntervalRecorder,
)
from llm_gateway.metrics.record import MetricsSink, RequestRecord
from tests.exchanges import served, unattached


def test_recorder_is_a_metrics_sink() -> None:
    sink: MetricsSink = IntervalRecorder()
    sink.request_started(unattached())


def test_an_interval_counts_requests_errors_disconnects_and_tokens_per_model() -> None:
    recorder = IntervalRecorder()
    requests = [unattached() for _ in range(4)]
    for request in requests:
        recorder.request_started(request)
    records = [
        RequestRecord("a", 200, 0.1, input_tokens=3, output_tokens=5),
        RequestRecord("a", 502, 0.2, error_type="upstream"),
        RequestRecord("b", 499, 0.3, input_tokens=2, output_tokens=1),
    ]
    for request, record in zip(requests, records, strict=False):
        recorder.request_finished(request, record)

    interval = recorder.take()

    assert interval.active == 1
    assert interval.last_tokens == (2, 1)
    a, b = interval.models["a"], interval.models["b"]
    assert (a.requests, a.errors, a.client_closed) == (2, {"upstream": 1}, 0)
    assert (a.input_tokens, a.output_tokens) == (3, 5)
    assert a.latency == {bucket_of(0.1): 1, bucket_of(0.2): 1}
    assert (b.requests, b.errors, b.client_closed) == (1, {}, 1)


def test_take_starts_a_fresh_interval_but_keeps_the_in_flight_count() -> None:
    recorder = IntervalRecorder()
    recorder.request_started(unattached())
    served(recorder, RequestRecord("a", 200, 0.1))
    recorder.take()

    interval = recorder.take()

    assert interval.active == 1
    assert interval.models == {}
    assert interval.last_tokens is None


def test_take_stamps_the_interval_and_recording_never_reads_the_clock() -> None:
    reads: list[float] = []

    def clock() -> float:
        reads.append(12.5 + len(reads))
        return reads[-1]

    recorder = IntervalRecorder(clock=clock)
    for _ in range(100):
        served(recorder, RequestRecord("a", 200, 0.1))
    assert reads == []

    assert recorder.take().ended_at == 12.5
    assert recorder.take().ended_at == 13.5


def test_intervals_are_stamped_on_the_monotonic_clock_by_default() -> None:
    before = time.monotonic()
    ended_at = IntervalRecorder().take().ended_at
    assert before <= ended_at <= time.monotonic()


def test_estimates_and_credits_are_carried() -> None:
    recorder = IntervalRecorder()
    served(recorder, RequestRecord("k", 200, 1.0, tokens_estimated=True, credits=0.5))
    served(recorder, RequestRecord("k", 200, 1.0, credits=0.25))

    model = recorder.take().models["k"]

    assert model.tokens_estimated
    assert model.credits == 0.75


def test_wire_form_survives_json() -> None:
    recorder = IntervalRecorder(clock=lambda: 1234.75)
    errors: list[tuple[float, ErrorType | None]] = [
        (0.01, None),
        (0.02, "timeout"),
        (5.0, "timeout"),
    ]
    for (latency, error), client in zip(errors, ("alice", "bob", "alice"), strict=True):
        served(
            recorder,
            RequestRecord(
                "m", 200 if error is None else 504, latency, 7, 9, error_type=error, client=client
            ),
        )
    for _ in range(3):
        recorder.connections.connection_opened()
    recorder.connections.connection_closed()
    recorder.connections.closed_for_slowness()
    recorder.connections.refused_at_cap()
    interval = recorder.take()
    assert interval.connections == ConnectionCounts(open=2, closed_slow=1, refused=1)
    # The open count carries on; the others start again.
    assert recorder.take().connections == ConnectionCounts(open=2)

    decoded = Interval.from_wire(orjson.loads(orjson.dumps(interval.to_wire())))

    assert decoded == interval
    assert decoded.ended_at == 1234.75
    assert decoded.clients["alice"] == ClientInterval(
        2, 1, 14, 18, interval.clients["alice"].latency
    )


def test_each_request_counts_once_under_its_model_and_once_under_its_client() -> None:
    recorder = IntervalRecorder()
    records = [
        RequestRecord("a", 200, 0.1, 3, 5, client="alice", credits=0.5),
        RequestRecord("a", 502, 0.2, error_type="upstream", client="bob"),
        RequestRecord("b", 499, 0.3, 2, 1, client="alice", tokens_estimated=True),
        RequestRecord("a", 200, 0.1, 1, 1, client="alice"),
        RequestRecord(
            "(unauthenticated)", 401, 0.001, error_type="auth", client="(unauthenticated)"
        ),
    ]
    for record in records:
        served(recorder, record)

    interval = recorder.take()

    a, b = interval.models["a"], interval.models["b"]
    assert (a.requests, a.errors, a.client_closed, a.input_tokens, a.credits) == (
        3,
        {"upstream": 1},
        0,
        4,
        0.5,
    )
    assert a.latency == {bucket_of(0.1): 2, bucket_of(0.2): 1}
    assert (b.requests, b.client_closed, b.tokens_estimated) == (1, 1, True)
    assert interval.clients == {
        "alice": ClientInterval(3, 0, 6, 7, {bucket_of(0.1): 2, bucket_of(0.3): 1}),
        "bob": ClientInterval(1, 1, 0, 0, {bucket_of(0.2): 1}),
        "(unauthenticated)": ClientInterval(1, 1, 0, 0, {bucket_of(0.001): 1}),
    }
    assert interval.last_tokens == (0, 0)
    assert recorder.take().clients == {}


def test_a_worker_counts_labels_past_its_cap_under_one_row() -> None:
    recorder = IntervalRecorder()
    for n in range(MAX_CLIENT_ROWS + 5):
        served(recorder, RequestRecord("m", 200, 0.1, client=f"c{n}"))

    clients = recorder.take().clients

    assert len(clients) == MAX_CLIENT_ROWS + 1
    assert clients[OTHER_CLIENTS].requests == 5
