"""The worker side: record each request into the current interval, hand it over every 250 ms.

:class:`IntervalRecorder` is the :class:`~llm_gateway.metrics.record.MetricsSink` a worker
gives its app. Recording touches a few counters and one dict slot, never awaits and never
locks: it runs on the serving event loop, which is the only thread that touches it. The
worker calls :meth:`IntervalRecorder.take` four times a second and ships the
:class:`Interval` to the supervisor, so a worker's memory for metrics is one interval's
worth, however long it runs.

An interval carries per-model counts and a sparse latency histogram rather than the raw
latencies: its size depends on how many models and distinct latency buckets were seen, not
on how many requests were served. It also carries when it was taken, so the supervisor can
file it under the second the traffic happened in rather than the second the report happened
to be read (see :mod:`llm_gateway.metrics.aggregator`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from llm_gateway.errors import ErrorType
from llm_gateway.metrics.connections import ConnectionCounter, ConnectionCounts
from llm_gateway.metrics.histogram import bucket_of
from llm_gateway.metrics.record import RequestRecord
from llm_gateway.metrics.upstreams import AttemptRecord, UpstreamsInterval, UpstreamState

CLIENT_CLOSED_STATUS = 499
"""The status the request path records when the client went away before the end."""

MAX_MODEL_ROWS = 1_000
"""Distinct model names kept apart, in a worker's interval and in the supervisor's totals.

Model names are client input (any name on a prefix route or in zero-config mode), so
without a cap a client could grow both processes' memory with names. Past it, new names
are counted under :data:`OTHER_MODELS`."""
OTHER_MODELS = "(other models)"
"""The row that collects every model name seen after the first :data:`MAX_MODEL_ROWS`."""


@dataclass(slots=True)
class ModelInterval:
    """What one model's requests added up to during one interval."""

    requests: int = 0
    client_closed: int = 0
    errors: dict[ErrorType, int] = field(default_factory=dict)
    input_tokens: int = 0
    output_tokens: int = 0
    tokens_estimated: bool = False
    credits: float | None = None
    latency: dict[int, int] = field(default_factory=dict)
    """Sparse histogram: ``{bucket: count}`` (see :mod:`llm_gateway.metrics.histogram`)."""

    def add(self, record: RequestRecord) -> None:
        self.requests += 1
        if record.error_type is not None:
            self.errors[record.error_type] = self.errors.get(record.error_type, 0) + 1
        elif record.status == CLIENT_CLOSED_STATUS:
            self.client_closed += 1
        self.input_tokens += record.input_tokens
        self.output_tokens += record.output_tokens
        if record.tokens_estimated:
            self.tokens_estimated = True
        if record.credits is not None:
            self.credits = (self.credits or 0.0) + record.credits
        bucket = bucket_of(record.latency_s)
        self.latency[bucket] = self.latency.get(bucket, 0) + 1


@dataclass(slots=True)
class Interval:
    """One worker's metrics message: its in-flight count now, and what finished since the last."""

    ended_at: float
    """When the worker took it, on the worker's ``time.monotonic()``. CLOCK_MONOTONIC is
    system-wide on Linux, so it is comparable with the supervisor's clock."""
    active: int = 0
    waiting: int = 0
    """Requests waiting now for an upstream connection (the worker's are all in use)."""
    models: dict[str, ModelInterval] = field(default_factory=dict)
    last_tokens: tuple[int, int] | None = None
    """Input and output tokens of the interval's last request, if there was one."""
    upstreams: UpstreamsInterval = field(default_factory=UpstreamsInterval)
    """Attempts per upstream (a request may make several), see :mod:`.upstreams`."""
    connections: ConnectionCounts = field(default_factory=ConnectionCounts)

    def to_wire(self) -> dict[str, Any]:
        """Plain JSON-ready data (orjson), compact: one list per model."""
        return {
            "ended": self.ended_at,
            "active": self.active,
            "waiting": self.waiting,
            "connections": self.connections.to_wire(),
            "last": self.last_tokens,
            "upstreams": self.upstreams.to_wire(),
            "models": {
                name: [
                    m.requests,
                    m.client_closed,
                    m.errors,
                    m.input_tokens,
                    m.output_tokens,
                    m.tokens_estimated,
                    m.credits,
                    [n for pair in m.latency.items() for n in pair],
                ]
                for name, m in self.models.items()
            },
        }

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> Interval:
        models: dict[str, ModelInterval] = {}
        for name, fields in data["models"].items():
            requests, closed, errors, tokens_in, tokens_out, estimated, credits, flat = fields
            models[name] = ModelInterval(
                requests=requests,
                client_closed=closed,
                errors=errors,
                input_tokens=tokens_in,
                output_tokens=tokens_out,
                tokens_estimated=estimated,
                credits=credits,
                latency=dict(zip(flat[::2], flat[1::2], strict=True)),
            )
        last = data["last"]
        last_tokens = None if last is None else (last[0], last[1])
        return cls(
            ended_at=data["ended"],
            active=data["active"],
            waiting=data["waiting"],
            connections=ConnectionCounts.from_wire(data["connections"]),
            models=models,
            last_tokens=last_tokens,
            upstreams=UpstreamsInterval.from_wire(data["upstreams"]),
        )


class IntervalRecorder:
    """The worker's metrics sink: O(1) per request, emptied by :meth:`take`.

    ``clock`` stamps each interval as it is taken; recording never reads it, so a request
    costs no clock call. ``access_log``, when given, is handed every finished request's
    record as it is: the access log then costs the request path one call, and its line is
    written where it is read (the supervisor).
    """

    __slots__ = (
        "_access_log",
        "_active",
        "_clock",
        "_last_input",
        "_last_output",
        "_models",
        "_upstreams",
        "_waiting",
        "connections",
    )

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        access_log: Callable[[RequestRecord], None] | None = None,
    ) -> None:
        self._clock = clock
        self._access_log = access_log
        self._active = 0
        self._waiting = 0
        self.connections = ConnectionCounter()
        """The sink the worker's HTTP protocol counts its connections into."""
        self._models: dict[str, ModelInterval] = {}
        self._last_input = -1
        self._last_output = 0
        self._upstreams = UpstreamsInterval()

    def request_started(self) -> None:
        self._active += 1

    def request_finished(self, record: RequestRecord) -> None:
        self._active -= 1
        stats = self._models.get(record.model)
        if stats is None:
            name = record.model if len(self._models) < MAX_MODEL_ROWS else OTHER_MODELS
            stats = self._models.get(name)
            if stats is None:
                stats = self._models[name] = ModelInterval()
        stats.add(record)
        self._last_input = record.input_tokens
        self._last_output = record.output_tokens
        if self._access_log is not None:
            self._access_log(record)

    def connection_wait_started(self) -> None:
        self._waiting += 1

    def connection_wait_finished(self) -> None:
        self._waiting -= 1

    def attempt_started(self, upstream: str) -> None:
        self._upstreams.attempt_started(upstream)

    def attempt_finished(self, record: AttemptRecord) -> None:
        self._upstreams.attempt_finished(record)

    def upstream_changed(self, upstream: str, state: UpstreamState) -> None:
        self._upstreams.states[upstream] = state

    def take(self) -> Interval:
        """The interval so far; recording starts afresh (the in-flight counts carry on)."""
        last = None if self._last_input < 0 else (self._last_input, self._last_output)
        interval = Interval(
            ended_at=self._clock(),
            active=self._active,
            waiting=self._waiting,
            models=self._models,
            last_tokens=last,
            upstreams=self._upstreams.take(),
            connections=self.connections.take(),
        )
        self._models = {}
        self._last_input = -1
        return interval
