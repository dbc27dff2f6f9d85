"""Requests in flight: the worker's table of open requests, its report, the supervisor's merge.

Requests are real :class:`Exchange` objects reporting to a real :class:`IntervalRecorder`,
as in a worker; the clock is injected, one for both, as a worker's is shared.
"""

from __future__ import annotations

import orjson
import pytest

from llm_gateway.apis import Api
from llm_gateway.config import ModelRoute
from llm_gateway.errors import GatewayError
from llm_gateway.frontends.exchange import CLIENT_CLOSED, Exchange
from llm_gateway.metrics.aggregator import Aggregator
from llm_gateway.metrics.inflight import MAX_LISTED
from llm_gateway.metrics.interval import Interval, IntervalRecorder
from llm_gateway.metrics.snapshot import InFlightRequest
from llm_gateway.pools import Upstream
from llm_gateway.providers.sim import SimProvider
from llm_gateway.untrusted import MAX_ECHO


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def arrive(recorder: IntervalRecorder, clock: Clock, model: str, api: Api = "openai") -> Exchange:
    """A request arriving now, its model read, as the request path makes it."""
    exchange = Exchange(recorder, clock, "POST", "/v1/chat/completions", api)
    exchange.model = model
    return exchange


def models(interval: Interval) -> list[str]:
    return [request.model for request in interval.in_flight]


def test_a_request_is_listed_from_its_start_to_its_finish(clock: Clock) -> None:
    recorder = IntervalRecorder(clock=clock)
    exchange = arrive(recorder, clock, "gpt-4o", api="responses")
    exchange.client = "alice"
    clock.now += 2.5

    interval = recorder.take()

    assert interval.active == 1
    assert interval.in_flight == (
        InFlightRequest(2.5, "responses", "gpt-4o", "alice", "", "waiting", 0),
    )
    exchange.finish(200)
    assert recorder.take().in_flight == ()
    assert recorder.take().active == 0


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (None, 200),
        (None, CLIENT_CLOSED),
        (GatewayError("upstream", 502, "Upstream stream ended before it was complete"), 200),
        (GatewayError("timeout", 504, "Upstream timed out"), 504),
    ],
)
def test_every_way_a_request_ends_takes_it_off_the_list(
    clock: Clock, error: GatewayError | None, status: int
) -> None:
    recorder = IntervalRecorder(clock=clock)
    exchange = arrive(recorder, clock, "m")
    exchange.error = error

    exchange.finish(status)
    exchange.finish(status)  # a second exit path finishing it again changes nothing

    assert (recorder.take().in_flight, recorder.take().active) == ((), 0)


def test_the_list_is_oldest_first_and_keeps_its_order_as_requests_leave(clock: Clock) -> None:
    recorder = IntervalRecorder(clock=clock)
    exchanges = []
    for name in ("a", "b", "c", "d"):
        exchanges.append(arrive(recorder, clock, name))
        clock.now += 1
    exchanges[1].finish(200)
    arrive(recorder, clock, "e")

    interval = recorder.take()

    assert models(interval) == ["a", "c", "d", "e"]
    assert [request.age_s for request in interval.in_flight] == [4.0, 2.0, 1.0, 0.0]


def test_a_report_lists_the_oldest_and_counts_them_all(clock: Clock) -> None:
    recorder = IntervalRecorder(clock=clock)
    for n in range(MAX_LISTED + 50):
        arrive(recorder, clock, f"m{n}")
        clock.now += 0.01

    interval = recorder.take()

    assert interval.active == MAX_LISTED + 50
    assert models(interval) == [f"m{n}" for n in range(MAX_LISTED)]


def test_state_upstream_and_output_so_far_are_read_as_they_stand_when_reported(
    clock: Clock,
) -> None:
    recorder = IntervalRecorder(clock=clock)
    exchange = arrive(recorder, clock, "claude", api="anthropic")
    route = ModelRoute(name="claude", provider="sim", label="sim-a")
    exchange.attempt(Upstream(route, SimProvider(route)))
    assert recorder.take().in_flight[0].upstream == "sim-a"

    exchange.state = "streaming"
    exchange.deltas = 17

    (listed,) = recorder.take().in_flight
    assert (listed.state, listed.output_tokens) == ("streaming", 17)


def test_a_model_name_is_bounded_before_it_is_reported(clock: Clock) -> None:
    recorder = IntervalRecorder(clock=clock)
    arrive(recorder, clock, "x" * 100_000)

    (listed,) = recorder.take().in_flight

    assert len(listed.model) < MAX_ECHO + 40


def test_the_list_crosses_the_wire(clock: Clock) -> None:
    recorder = IntervalRecorder(clock=clock)
    arrive(recorder, clock, "a").client = "bob"
    clock.now += 1
    arrive(recorder, clock, "b", api="anthropic").state = "streaming"
    interval = recorder.take()

    decoded = Interval.from_wire(orjson.loads(orjson.dumps(interval.to_wire())))

    assert decoded.in_flight == interval.in_flight
    assert len(decoded.in_flight) == 2


def listing(clock: Clock, *ages: float, model: str = "m") -> Interval:
    """A worker's report taken now, listing requests of these ages, oldest first."""
    requests = tuple(
        InFlightRequest(age, "openai", f"{model}{n}", "", "", "streaming", 0)
        for n, age in enumerate(ages)
    )
    return Interval(ended_at=clock.now, active=len(ages), in_flight=requests)


def test_the_supervisor_merges_the_workers_lists_oldest_first_aged_to_its_now(
    clock: Clock,
) -> None:
    metrics = Aggregator(clock=clock)
    metrics.merge(1, listing(clock, 9.0, 3.0, model="w1-"))
    clock.now += 0.5
    metrics.merge(2, listing(clock, 6.0, 0.25, model="w2-"))
    clock.now += 0.5

    snapshot = metrics.snapshot()

    assert [(r.model, r.age_s) for r in snapshot.in_flight] == [
        ("w1-0", 10.0),
        ("w2-0", 6.5),
        ("w1-1", 4.0),
        ("w2-1", 0.75),
    ]
    assert snapshot.active_connections == 4


def test_a_new_report_replaces_the_workers_list_and_a_worker_that_leaves_takes_it(
    clock: Clock,
) -> None:
    metrics = Aggregator(clock=clock)
    metrics.merge(1, listing(clock, 5.0, 4.0, model="old"))
    metrics.merge(2, listing(clock, 1.0, model="two"))
    clock.now += 0.25
    metrics.merge(1, listing(clock, 4.25, model="old"))
    assert [r.model for r in metrics.snapshot().in_flight] == ["old0", "two0"]

    metrics.worker_left(2)

    assert [r.model for r in metrics.snapshot().in_flight] == ["old0"]


def test_the_merged_list_keeps_the_oldest_across_workers(clock: Clock) -> None:
    metrics = Aggregator(clock=clock)
    for worker in (1, 2, 3):
        ages = [1000.0 - worker - 3 * n for n in range(MAX_LISTED)]
        metrics.merge(worker, listing(clock, *ages, model=f"w{worker}-"))

    snapshot = metrics.snapshot()

    assert len(snapshot.in_flight) == MAX_LISTED
    ages = [r.age_s for r in snapshot.in_flight]
    assert ages == sorted(ages, reverse=True)
    assert ages[-1] == 1000.0 - 1 - 3 * (MAX_LISTED // 3)
    assert snapshot.active_connections == 3 * MAX_LISTED
