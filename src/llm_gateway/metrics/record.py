"""The one hook between the request path and the metrics.

The request path calls :meth:`MetricsSink.request_started` when a request arrives and
:meth:`MetricsSink.request_finished` exactly once when its last byte is sent or it fails
or the client goes away. Both are plain synchronous calls that must be O(1): they run on
the serving event loop. Both name the request by its bookkeeping object, which the sink
may hold in between and read to list the requests in flight (see :mod:`.inflight`).

The :class:`RequestRecord` is also the access log's entry: the worker keeps it, with no
``logging`` record, and writes its line (:func:`llm_gateway.supervisor.logs.access_text`)
when it reports. A new field for the access line is one field here and one line there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from llm_gateway.errors import ErrorType
from llm_gateway.metrics.inflight import OpenRequest
from llm_gateway.metrics.upstreams import AttemptRecord, UpstreamState


@dataclass(slots=True)
class RequestRecord:
    model: str
    status: int
    latency_s: float
    input_tokens: int = 0
    output_tokens: int = 0
    error_type: ErrorType | None = None
    tokens_estimated: bool = False
    credits: float | None = None
    method: str = ""
    path: str = ""
    finished_at: float = 0.0
    """Wall-clock seconds since the epoch, the access line's time stamp."""
    upstream: str = ""
    """The label of the upstream that served the request (its last attempt's)."""
    attempts: int = 0
    client: str = ""
    """The label of the client's key (see :mod:`llm_gateway.auth`)."""


class MetricsSink(Protocol):
    def request_started(self, request: OpenRequest) -> None: ...

    def request_finished(self, request: OpenRequest, record: RequestRecord) -> None: ...

    def connection_wait_started(self) -> None:
        """A request found every upstream connection of the worker in use, and waits."""

    def connection_wait_finished(self) -> None: ...

    def attempt_started(self, upstream: str) -> None:
        """An attempt on the upstream keyed ``upstream`` begins (a request may make several)."""

    def attempt_finished(self, record: AttemptRecord) -> None: ...

    def upstream_changed(self, upstream: str, state: UpstreamState) -> None:
        """An upstream's state changed (it rests, or its credits were read); rare."""


class NullMetrics:
    """A sink that records nothing, for a gateway run without a supervisor."""

    def request_started(self, request: OpenRequest) -> None:
        return None

    def request_finished(self, request: OpenRequest, record: RequestRecord) -> None:
        return None

    def connection_wait_started(self) -> None:
        return None

    def connection_wait_finished(self) -> None:
        return None

    def attempt_started(self, upstream: str) -> None:
        return None

    def attempt_finished(self, record: AttemptRecord) -> None:
        return None

    def upstream_changed(self, upstream: str, state: UpstreamState) -> None:
        return None
