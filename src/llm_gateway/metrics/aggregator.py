"""The supervisor side: merge the workers' intervals into totals, a window and a history.

:class:`Aggregator` is a plain class with an injected clock: nothing in it starts a task
or reads the time behind the caller's back, so a test can replay a quarter of an hour in
microseconds and the dashboard reads one consistent :class:`Snapshot` at a time.

Time is cut into whole seconds since start. The open second collects what happens in it; when
the clock moves past it, it is closed into the 15-minute history (one point per second)
and into the sliding window (the last ``window_s`` seconds, kept as one small sparse
histogram per second plus a dense running sum, so expiry subtracts one second's worth).

Each interval is filed under the second in which the worker *took* it
(:attr:`Interval.ended_at <llm_gateway.metrics.interval.Interval.ended_at>`), not the one
in which it arrives. The supervisor runs at idle CPU priority: when every CPU is busy it may
read the reports seconds late and then all at once, and filing them on arrival would draw
zeros through the stall and a spike when it catches up, traffic that never happened. A
late interval amends its closed second instead: the second's counts, which the window sums
and the current rates read, and its history point. One older than the window is filed
under the oldest second still held, because the earlier ones have already been subtracted
from the window sums; one stamped after our now, which only a clock other than ours could
do, goes to the open second. Totals, per-model figures and gauges do not depend on the
second.

The requests in flight are each worker's latest list, as it reported it (its oldest
:data:`~llm_gateway.metrics.inflight.MAX_LISTED`, their ages as of the report): a snapshot
merges them, ages them to its own now and keeps the oldest ``MAX_LISTED`` across workers.

Everything is fixed-size: deques with a length bound, one dense histogram for the window
and one per model and per client, at most ``max_models`` models and
:data:`~llm_gateway.metrics.interval.MAX_CLIENT_ROWS` client labels (past either cap the
rest share one row). Memory does not grow with traffic or uptime.
"""

from __future__ import annotations

import heapq
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import replace
from itertools import islice
from typing import TypeVar

from llm_gateway.config import ConnectionLimits
from llm_gateway.errors import ERROR_TYPES, ErrorType
from llm_gateway.metrics.histogram import BUCKETS, dense_percentiles, sparse_percentiles
from llm_gateway.metrics.inflight import MAX_LISTED
from llm_gateway.metrics.interval import (
    MAX_CLIENT_ROWS,
    MAX_MODEL_ROWS,
    OTHER_CLIENTS,
    OTHER_MODELS,
    ClientInterval,
    Interval,
    ModelInterval,
)
from llm_gateway.metrics.snapshot import (
    ClientStats,
    Connections,
    InFlightRequest,
    ModelStats,
    Resources,
    Series,
    Snapshot,
)
from llm_gateway.metrics.upstreams import UpstreamsTotals

MAX_MODEL_NAME = 120
"""Model names are client input; longer ones are cut so a row's size stays bounded."""


K = TypeVar("K")


class _Second:
    """What arrived during one second, across all workers and models."""

    __slots__ = ("errors", "latency", "requests", "tokens")

    def __init__(self) -> None:
        self.requests = 0
        self.tokens = 0
        self.errors: dict[ErrorType, int] = {}
        self.latency: dict[int, int] = {}

    def add(self, model: ModelInterval) -> None:
        self.requests += model.requests
        self.tokens += model.input_tokens + model.output_tokens
        _add_counts(self.errors, model.errors)
        _add_counts(self.latency, model.latency)


class _ModelTotals:
    """One model's figures since start, with a dense latency histogram."""

    __slots__ = (
        "credits",
        "errors",
        "input_tokens",
        "latency",
        "output_tokens",
        "requests",
        "tokens_estimated",
    )

    def __init__(self) -> None:
        self.requests = 0
        self.errors = 0
        self.input_tokens = 0
        self.output_tokens = 0
        self.tokens_estimated = False
        self.credits: float | None = None
        self.latency = [0] * BUCKETS

    def add(self, model: ModelInterval) -> None:
        self.requests += model.requests
        self.errors += sum(model.errors.values())
        self.input_tokens += model.input_tokens
        self.output_tokens += model.output_tokens
        self.tokens_estimated = self.tokens_estimated or model.tokens_estimated
        if model.credits is not None:
            self.credits = (self.credits or 0.0) + model.credits
        _add_dense(self.latency, model.latency.items(), 1)


class _ClientTotals:
    """One client's figures since start, with a dense latency histogram."""

    __slots__ = ("errors", "input_tokens", "latency", "output_tokens", "requests")

    def __init__(self) -> None:
        self.requests = 0
        self.errors = 0
        self.input_tokens = 0
        self.output_tokens = 0
        self.latency = [0] * BUCKETS

    def add(self, client: ClientInterval) -> None:
        self.requests += client.requests
        self.errors += client.errors
        self.input_tokens += client.input_tokens
        self.output_tokens += client.output_tokens
        _add_dense(self.latency, client.latency.items(), 1)


class Aggregator:
    """Every worker's metrics, merged; read through :meth:`snapshot`.

    ``window_s`` is the sliding window for latency percentiles and error shares;
    ``rate_window_s`` the shorter one for the current rates, so they follow the traffic
    within seconds; ``history_s`` the length of the per-second series.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        window_s: int = 60,
        rate_window_s: int = 5,
        history_s: int = 900,
        max_models: int = MAX_MODEL_ROWS,
        connection_limits: ConnectionLimits | None = None,
    ) -> None:
        if not 0 < rate_window_s < window_s:
            raise ValueError("rate_window_s must be positive and shorter than window_s")
        self._clock = clock
        self._start = clock()
        self._window_s = window_s
        self._rate_window_s = rate_window_s
        self._history_s = history_s
        self._max_models = max_models
        self._models_capped = False
        """Whether some model name was counted under :data:`OTHER_MODELS`."""

        self._second = 0
        self._current = _Second()
        self._recent: deque[_Second] = deque()
        """Closed seconds still in the window, oldest first (at most ``window_s - 1``); the
        last is the second just before the open one."""
        self._window_requests = 0
        self._window_errors: dict[ErrorType, int] = {}
        self._window_latency = [0] * BUCKETS
        """Dense sum of the open second and every second in ``_recent``."""

        self._requests = 0
        self._client_closed = 0
        self._errors: dict[ErrorType, int] = {}
        self._input_tokens = 0
        self._output_tokens = 0
        self._tokens_estimated = False
        self._credits: float | None = None
        self._last_tokens = (0, 0)
        self._models: dict[str, _ModelTotals] = {}
        self._clients: dict[str, _ClientTotals] = {}
        self._active: dict[int, int] = {}
        self._in_flight: dict[int, list[tuple[float, InFlightRequest]]] = {}
        """Each worker's latest list of requests in flight, each with its start on our clock."""
        self._waiting: dict[int, int] = {}
        self._upstreams = UpstreamsTotals()
        self._open_connections: dict[int, int] = {}
        self._closed_slow = 0
        self._refused = 0
        self._connection_limits = connection_limits or ConnectionLimits()
        self._resources = Resources()

        def history() -> deque[float]:
            return deque(maxlen=history_s)

        self._requests_series = history()
        self._errors_series = history()
        self._tokens_series = history()
        self._cpu_series = history()
        self._p50_series: deque[float | None] = deque(maxlen=history_s)
        self._p95_series: deque[float | None] = deque(maxlen=history_s)
        self._p99_series: deque[float | None] = deque(maxlen=history_s)
        self._active_series: deque[int] = deque(maxlen=history_s)
        self._memory_series: deque[int] = deque(maxlen=history_s)

    def worker_joined(self, worker: int) -> None:
        self._active[worker] = 0

    def worker_left(self, worker: int) -> None:
        """Forget a worker; the requests it had in flight are no longer counted as active."""
        self._active.pop(worker, None)
        self._in_flight.pop(worker, None)
        self._waiting.pop(worker, None)
        self._upstreams.worker_left(worker)
        self._open_connections.pop(worker, None)

    def record_resources(self, resources: Resources) -> None:
        self._advance()
        self._resources = resources

    def merge(self, worker: int, interval: Interval) -> None:
        """Add one worker's interval, under the second in which the worker took it."""
        self._advance()
        self._active[worker] = interval.active
        self._in_flight[worker] = [
            (interval.ended_at - request.age_s, request) for request in interval.in_flight
        ]
        self._waiting[worker] = interval.waiting
        self._upstreams.merge(worker, interval.upstreams)
        self._open_connections[worker] = interval.connections.open
        self._closed_slow += interval.connections.closed_slow
        self._refused += interval.connections.refused
        if interval.last_tokens is not None:
            self._last_tokens = interval.last_tokens
        back = self._seconds_back(interval.ended_at)
        second = self._recent[-back] if back else self._current
        models = interval.models
        for name, model in models.items():
            self._merge_model(name, model, second)
        for label, client in interval.clients.items():
            self._client_totals(label).add(client)
        if back and models:
            self._amend_history(back, second)

    def _seconds_back(self, ended_at: float) -> int:
        """How many seconds before the open one an interval taken at ``ended_at`` belongs.

        0 is the open second; ``k`` is the closed second at ``self._recent[-k]`` and at
        ``series[-k]`` in the history, if that still holds it: both get one entry per closed
        second, the newest being the one just before the open second. Clamped to the
        seconds the window still holds, so the result always names a second whose counts
        are in the window sums (see the module docstring).
        """
        back = self._second - int(ended_at - self._start)
        return max(0, min(back, len(self._recent)))

    def _amend_history(self, back: int, second: _Second) -> None:
        """Rewrite the history point ``back`` seconds ago from its amended ``second``."""
        # With a history shorter than the window, the point may be gone while the second
        # still counts in the window.
        if back > len(self._requests_series):
            return
        self._requests_series[-back] = second.requests
        self._errors_series[-back] = sum(second.errors.values())
        self._tokens_series[-back] = second.tokens
        latency = sparse_percentiles(second.latency)
        self._p50_series[-back] = latency.p50
        self._p95_series[-back] = latency.p95
        self._p99_series[-back] = latency.p99

    def _merge_model(self, name: str, model: ModelInterval, second: _Second) -> None:
        self._requests += model.requests
        self._client_closed += model.client_closed
        _add_counts(self._errors, model.errors)
        self._input_tokens += model.input_tokens
        self._output_tokens += model.output_tokens
        self._tokens_estimated = self._tokens_estimated or model.tokens_estimated
        if model.credits is not None:
            self._credits = (self._credits or 0.0) + model.credits

        second.add(model)
        self._window_requests += model.requests
        _add_counts(self._window_errors, model.errors)
        _add_dense(self._window_latency, model.latency.items(), 1)
        self._model_totals(name).add(model)

    def _model_totals(self, name: str) -> _ModelTotals:
        name = name[:MAX_MODEL_NAME]
        totals = self._models.get(name)
        if totals is None:
            if len(self._models) >= self._max_models:
                name = OTHER_MODELS
                totals = self._models.get(name)
            if totals is None:
                totals = self._models[name] = _ModelTotals()
        if name == OTHER_MODELS:
            # Also a worker's own row for the names past its cap.
            self._models_capped = True
        return totals

    def _client_totals(self, label: str) -> _ClientTotals:
        totals = self._clients.get(label)
        if totals is None:
            if len(self._clients) >= MAX_CLIENT_ROWS:
                label = OTHER_CLIENTS
                totals = self._clients.get(label)
            if totals is None:
                totals = self._clients[label] = _ClientTotals()
        return totals

    def _advance(self) -> None:
        """Close every second the clock has moved past."""
        second = int(self._clock() - self._start)
        # After a gap longer than the history and the window, older closings would all be
        # pushed out again: close just enough empty seconds to flush both. What is left are
        # empty seconds standing for those just before the new open one, as the indexing
        # in ``_seconds_back`` assumes.
        for _ in range(min(second - self._second, self._history_s + self._window_s)):
            self._close_second()
        self._second = max(second, self._second)

    def _close_second(self) -> None:
        closed = self._current
        self._requests_series.append(closed.requests)
        self._errors_series.append(sum(closed.errors.values()))
        self._tokens_series.append(closed.tokens)
        latency = sparse_percentiles(closed.latency)
        self._p50_series.append(latency.p50)
        self._p95_series.append(latency.p95)
        self._p99_series.append(latency.p99)
        self._active_series.append(self._active_total())
        self._cpu_series.append(self._resources.gateway_cpu_percent)
        self._memory_series.append(self._resources.gateway_memory_bytes)

        self._recent.append(closed)
        if len(self._recent) >= self._window_s:
            expired = self._recent.popleft()
            self._window_requests -= expired.requests
            _add_counts(self._window_errors, expired.errors, -1)
            _add_dense(self._window_latency, expired.latency.items(), -1)
        self._current = _Second()

    def _active_total(self) -> int:
        return sum(self._active.values())

    def snapshot(self) -> Snapshot:
        """Everything as of now, as immutable plain data."""
        self._advance()
        now = self._clock()
        rate_seconds = list(islice(reversed(self._recent), self._rate_window_s))
        span = len(rate_seconds) or 1
        requests = self._requests
        return Snapshot(
            uptime_s=now - self._start,
            workers=len(self._active),
            active_connections=self._active_total(),
            waiting_for_upstream=sum(self._waiting.values()),
            requests_total=requests,
            request_rate=sum(s.requests for s in rate_seconds) / span,
            errors_total=sum(self._errors.values()),
            client_closed_total=self._client_closed,
            errors_by_type={kind: self._errors.get(kind, 0) for kind in ERROR_TYPES},
            error_rate_by_type={
                kind: sum(s.errors.get(kind, 0) for s in rate_seconds) / span
                for kind in ERROR_TYPES
            },
            error_share_by_type={
                kind: self._window_errors.get(kind, 0) / self._window_requests
                if self._window_requests
                else 0.0
                for kind in ERROR_TYPES
            },
            latency=dense_percentiles(self._window_latency, self._window_requests),
            latency_window_s=float(self._window_s),
            input_tokens_total=self._input_tokens,
            output_tokens_total=self._output_tokens,
            tokens_per_s=sum(s.tokens for s in rate_seconds) / span,
            last_input_tokens=self._last_tokens[0],
            last_output_tokens=self._last_tokens[1],
            avg_input_tokens=self._input_tokens / requests if requests else 0.0,
            avg_output_tokens=self._output_tokens / requests if requests else 0.0,
            tokens_estimated=self._tokens_estimated,
            credits_total=self._credits,
            models=self._model_stats(),
            models_capped=self._models_capped,
            upstreams=self._upstreams.stats(now),
            clients=self._client_stats(),
            connections=Connections(
                open=sum(self._open_connections.values()),
                closed_slow=self._closed_slow,
                refused=self._refused,
                limits=self._connection_limits,
            ),
            resources=self._resources,
            in_flight=self._in_flight_now(now),
            series=Series(
                step_s=1.0,
                requests_per_s=tuple(self._requests_series),
                errors_per_s=tuple(self._errors_series),
                active_connections=tuple(self._active_series),
                p50_s=tuple(self._p50_series),
                p95_s=tuple(self._p95_series),
                p99_s=tuple(self._p99_series),
                tokens_per_s=tuple(self._tokens_series),
                gateway_cpu_percent=tuple(self._cpu_series),
                gateway_memory_bytes=tuple(self._memory_series),
            ),
        )

    def _in_flight_now(self, now: float) -> tuple[InFlightRequest, ...]:
        """The oldest requests in flight across the workers, oldest first, aged to ``now``."""
        # Each worker's list is already oldest first: merging them keeps that order.
        oldest = heapq.merge(*self._in_flight.values(), key=lambda item: item[0])
        return tuple(
            replace(request, age_s=now - started) for started, request in islice(oldest, MAX_LISTED)
        )

    def _model_stats(self) -> tuple[ModelStats, ...]:
        """Per-model figures since start, busiest first."""
        total = self._requests or 1
        rows = sorted(self._models.items(), key=lambda item: (-item[1].requests, item[0]))
        return tuple(
            ModelStats(
                model=name,
                requests=m.requests,
                errors=m.errors,
                latency=dense_percentiles(m.latency, m.requests),
                input_tokens=m.input_tokens,
                output_tokens=m.output_tokens,
                share=m.requests / total,
                tokens_estimated=m.tokens_estimated,
                credits=m.credits,
            )
            for name, m in rows
        )

    def _client_stats(self) -> tuple[ClientStats, ...]:
        """Per-client figures since start, busiest first."""
        total = self._requests or 1
        rows = sorted(self._clients.items(), key=lambda item: (-item[1].requests, item[0]))
        return tuple(
            ClientStats(
                label=label,
                requests=c.requests,
                errors=c.errors,
                input_tokens=c.input_tokens,
                output_tokens=c.output_tokens,
                share=c.requests / total,
                p50=dense_percentiles(c.latency, c.requests).p50,
            )
            for label, c in rows
        )


def _add_counts(into: dict[K, int], counts: dict[K, int], sign: int = 1) -> None:
    for key, count in counts.items():
        into[key] = into.get(key, 0) + sign * count


def _add_dense(into: list[int], counts: Iterable[tuple[int, int]], sign: int) -> None:
    for index, count in counts:
        into[index] += sign * count
