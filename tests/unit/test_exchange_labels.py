"""The model row of a request that never named a model says why; its record names its client."""

from __future__ import annotations

import pytest

from llm_gateway.errors import GatewayError, validation_error
from llm_gateway.frontends.exchange import CLIENT_CLOSED, Exchange
from llm_gateway.metrics.interval import IntervalRecorder
from llm_gateway.metrics.record import RequestRecord


@pytest.mark.parametrize(
    ("error", "status", "row"),
    [
        (GatewayError("auth", 401, "Invalid API key"), 401, "(unauthenticated)"),
        (validation_error("Request body is not valid JSON"), 400, "(unparsed)"),
        (None, CLIENT_CLOSED, "(unparsed)"),
        (None, 200, "-"),
    ],
)
def test_a_request_without_a_model_is_counted_under_a_row_that_says_why(
    error: GatewayError | None, status: int, row: str
) -> None:
    recorder = IntervalRecorder()
    exchange = Exchange(recorder, lambda: 0.0, "POST", "/v1/chat/completions", "openai")
    exchange.error = error

    exchange.finish(status)

    assert list(recorder.take().models) == [row]


def test_a_named_model_keeps_its_name_whatever_the_outcome() -> None:
    recorder = IntervalRecorder()
    exchange = Exchange(recorder, lambda: 0.0, "POST", "/v1/chat/completions", "openai")
    exchange.model = "gpt-4o"
    exchange.error = validation_error("'messages' must be a non-empty array")

    exchange.finish(400)

    assert list(recorder.take().models) == ["gpt-4o"]


def test_the_record_carries_the_client_or_unauthenticated_when_refused() -> None:
    records: list[RequestRecord] = []
    recorder = IntervalRecorder(access_log=records.append)
    served = Exchange(recorder, lambda: 0.0, "POST", "/v1/messages", "anthropic")
    served.client = "alice"
    served.finish(200)
    refused = Exchange(recorder, lambda: 0.0, "POST", "/v1/messages", "anthropic")
    refused.error = GatewayError("auth", 401, "Invalid API key")
    refused.finish(401)

    assert [r.client for r in records] == ["alice", "(unauthenticated)"]
