"""The worker side: record each request into the current interval, hand it over every 250 ms.

:class:`IntervalRecorder` is the :class:`~llm_gateway.metrics.record.MetricsSink` a worker
gives its app. Recording touches a few counters and one dict slot, never awaits and never
locks: it runs on the serving event loop, which is the only thread that touches it. The
worker calls :meth:`IntervalRecorder.take` four times a second and ships the
:class:`Interval` to the supervisor, so a worker's memory for metrics is one interval's
worth, however long it runs.

An interval carries counts and sparse latency histograms rather than the raw latencies, in
one row per client and model: its size depends on how many clients, models and distinct
latency buckets were seen, not on how many requests were served. A request is counted once,
in its row, so recording costs one more dict lookup than counting per model alone; the rows
are added up per model and per client (:attr:`Interval.models`, :attr:`Interval.clients`)
where they are read, in the supervisor, not on the worker's serving loop. An interval also
carries when it was taken, so the supervisor can file it under the second the traffic
happened in rather than the second the report happened to be read (see
:mod:`llm_gateway.metrics.aggregator`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from llm_gateway.errors import ErrorType
from llm_gateway.metrics.connections import ConnectionCounter, ConnectionCounts
from llm_gateway.metrics.histogram import bucket_of
from llm_gateway.metrics.inflight import OpenRequest, listed
from llm_gateway.metrics.record import RequestRecord
from llm_gateway.metrics.snapshot import InFlightRequest
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

MAX_CLIENT_ROWS = 1_000
"""Distinct client labels kept apart, in a worker's interval and in the supervisor's totals.

Labels come from the config (a key's label, or one of the gateway's own), so they are
bounded already; the cap stays so that memory is bounded by the code, not by the config.
Past it, new labels are counted under :data:`OTHER_CLIENTS`."""
OTHER_CLIENTS = "(other clients)"
"""The row that collects every client label seen after the first :data:`MAX_CLIENT_ROWS`."""


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

    def merge(self, other: ModelInterval) -> None:
        """Add another row of the same model (another client's) to this one."""
        self.requests += other.requests
        self.client_closed += other.client_closed
        _add_counts(self.errors, other.errors)
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.tokens_estimated = self.tokens_estimated or other.tokens_estimated
        if other.credits is not None:
            self.credits = (self.credits or 0.0) + other.credits
        _add_counts(self.latency, other.latency)

    def to_wire(self) -> list[Any]:
        return [
            self.requests,
            self.client_closed,
            self.errors,
            self.input_tokens,
            self.output_tokens,
            self.tokens_estimated,
            self.credits,
            [n for pair in self.latency.items() for n in pair],
        ]

    @classmethod
    def from_wire(cls, fields: list[Any]) -> ModelInterval:
        requests, closed, errors, tokens_in, tokens_out, estimated, credits, flat = fields
        return cls(
            requests=requests,
            client_closed=closed,
            errors=errors,
            input_tokens=tokens_in,
            output_tokens=tokens_out,
            tokens_estimated=estimated,
            credits=credits,
            latency=dict(zip(flat[::2], flat[1::2], strict=True)),
        )


@dataclass(slots=True)
class ClientInterval:
    """What one client's requests (one key's label) added up to during one interval."""

    requests: int = 0
    errors: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    latency: dict[int, int] = field(default_factory=dict)
    """Sparse histogram, as :attr:`ModelInterval.latency`."""

    def add(self, row: ModelInterval) -> None:
        self.requests += row.requests
        self.errors += sum(row.errors.values())
        self.input_tokens += row.input_tokens
        self.output_tokens += row.output_tokens
        _add_counts(self.latency, row.latency)


def _add_counts(into: dict[Any, int], counts: dict[Any, int]) -> None:
    for key, count in counts.items():
        into[key] = into.get(key, 0) + count


@dataclass(slots=True)
class Interval:
    """One worker's metrics message: its in-flight count now, and what finished since the last."""

    ended_at: float
    """When the worker took it, on the worker's ``time.monotonic()``. CLOCK_MONOTONIC is
    system-wide on Linux, so it is comparable with the supervisor's clock."""
    active: int = 0
    """Requests in flight now."""
    in_flight: tuple[InFlightRequest, ...] = ()
    """The oldest of them (see :mod:`.inflight`), their ages as of :attr:`ended_at`."""
    waiting: int = 0
    """Requests waiting now for an upstream connection (the worker's are all in use)."""
    rows: dict[str, dict[str, ModelInterval]] = field(default_factory=dict)
    """What finished, per client label and per model name: each request in one row."""
    last_tokens: tuple[int, int] | None = None
    """Input and output tokens of the interval's last request, if there was one."""
    upstreams: UpstreamsInterval = field(default_factory=UpstreamsInterval)
    """Attempts per upstream (a request may make several), see :mod:`.upstreams`."""
    connections: ConnectionCounts = field(default_factory=ConnectionCounts)

    @property
    def models(self) -> dict[str, ModelInterval]:
        """Per model name, its rows added up across clients (new objects each time)."""
        models: dict[str, ModelInterval] = {}
        for rows in self.rows.values():
            for name, row in rows.items():
                model = models.get(name)
                if model is None:
                    model = models[name] = ModelInterval()
                model.merge(row)
        return models

    @property
    def clients(self) -> dict[str, ClientInterval]:
        """Per client label, its rows added up across models: the same requests as
        :attr:`models`, counted by who sent them."""
        clients: dict[str, ClientInterval] = {}
        for label, rows in self.rows.items():
            client = clients[label] = ClientInterval()
            for row in rows.values():
                client.add(row)
        return clients

    def to_wire(self) -> dict[str, Any]:
        """Plain JSON-ready data (orjson), compact: one list per row."""
        return {
            "ended": self.ended_at,
            "active": self.active,
            "in_flight": [
                [r.age_s, r.api, r.model, r.client, r.upstream, r.state, r.output_tokens]
                for r in self.in_flight
            ],
            "waiting": self.waiting,
            "connections": self.connections.to_wire(),
            "last": self.last_tokens,
            "upstreams": self.upstreams.to_wire(),
            "rows": {
                label: {name: row.to_wire() for name, row in rows.items()}
                for label, rows in self.rows.items()
            },
        }

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> Interval:
        last = data["last"]
        last_tokens = None if last is None else (last[0], last[1])
        return cls(
            ended_at=data["ended"],
            active=data["active"],
            in_flight=tuple(InFlightRequest(*fields) for fields in data["in_flight"]),
            waiting=data["waiting"],
            connections=ConnectionCounts.from_wire(data["connections"]),
            rows={
                label: {name: ModelInterval.from_wire(row) for name, row in rows.items()}
                for label, rows in data["rows"].items()
            },
            last_tokens=last_tokens,
            upstreams=UpstreamsInterval.from_wire(data["upstreams"]),
        )


class IntervalRecorder:
    """The worker's metrics sink: O(1) per request, emptied by :meth:`take`.

    ``clock`` stamps each interval as it is taken; recording never reads it, so a request
    costs no clock call. It is also the clock the open requests' start times are on (the
    request path's, ``time.monotonic`` in a worker), which their ages are taken against.
    ``access_log``, when given, is handed every finished request's record as it is: the
    access log then costs the request path one call, which writes its line (see
    :mod:`llm_gateway.supervisor.logs`).
    """

    __slots__ = (
        "_access_log",
        "_clock",
        "_last",
        "_model_names",
        "_open",
        "_rows",
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
        self._open: dict[OpenRequest, None] = {}
        """Every request in flight, oldest first (see :mod:`.inflight`)."""
        self._waiting = 0
        self.connections = ConnectionCounter()
        """The sink the worker's HTTP protocol counts its connections into."""
        self._rows: dict[str, dict[str, ModelInterval]] = {}
        """Per client label, per model name: each request is counted in one row."""
        self._model_names: set[str] = set()
        """The model names kept apart so far this interval (at most :data:`MAX_MODEL_ROWS`)."""
        self._last: RequestRecord | None = None
        """The interval's last request: one store per request, its tokens read at take."""
        self._upstreams = UpstreamsInterval()

    def request_started(self, request: OpenRequest) -> None:
        self._open[request] = None

    def request_finished(self, request: OpenRequest, record: RequestRecord) -> None:
        del self._open[request]
        rows = self._rows.get(record.client)
        if rows is None:
            rows = self._client_rows(record.client)
        stats = rows.get(record.model)
        if stats is None:
            stats = self._model_row(rows, record.model)
        stats.add(record)
        self._last = record
        if self._access_log is not None:
            self._access_log(record)

    def _client_rows(self, label: str) -> dict[str, ModelInterval]:
        if len(self._rows) >= MAX_CLIENT_ROWS:
            label = OTHER_CLIENTS
        rows = self._rows.get(label)
        if rows is None:
            rows = self._rows[label] = {}
        return rows

    def _model_row(self, rows: dict[str, ModelInterval], name: str) -> ModelInterval:
        if name not in self._model_names:
            if len(self._model_names) < MAX_MODEL_ROWS:
                self._model_names.add(name)
            else:
                name = OTHER_MODELS
        row = rows.get(name)
        if row is None:
            row = rows[name] = ModelInterval()
        return row

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
        last = self._last
        now = self._clock()
        interval = Interval(
            ended_at=now,
            active=len(self._open),
            in_flight=listed(self._open, now),
            waiting=self._waiting,
            rows=self._rows,
            last_tokens=None if last is None else (last.input_tokens, last.output_tokens),
            upstreams=self._upstreams.take(),
            connections=self.connections.take(),
        )
        self._rows = {}
        self._model_names = set()
        self._last = None
        return interval
