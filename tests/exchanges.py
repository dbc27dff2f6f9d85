"""Requests for tests that drive a metrics sink's hooks by hand."""

from __future__ import annotations

from collections.abc import Callable

from llm_gateway.apis import Api
from llm_gateway.frontends.exchange import Exchange
from llm_gateway.metrics.record import MetricsSink, NullMetrics, RequestRecord


def unattached(clock: Callable[[], float] = lambda: 0.0, api: Api = "openai") -> Exchange:
    """A request's bookkeeping as the request path makes it, reporting to no sink: the test
    hands it to the sink under test itself."""
    return Exchange(NullMetrics(), clock, "POST", "/v1/chat/completions", api)


def served(sink: MetricsSink, record: RequestRecord) -> None:
    """One request from its start to its end, finishing as ``record`` says."""
    request = unattached()
    sink.request_started(request)
    sink.request_finished(request, record)
