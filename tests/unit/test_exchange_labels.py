"""The model row of a request that never named a model says why."""

from __future__ import annotations

import pytest

from llm_gateway.errors import GatewayError, validation_error
from llm_gateway.frontends.exchange import CLIENT_CLOSED, Exchange
from llm_gateway.metrics.interval import IntervalRecorder


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
    exchange = Exchange(recorder, lambda: 0.0, "POST", "/v1/chat/completions")
    exchange.error = error

    exchange.finish(status)

    assert list(recorder.take().models) == [row]


def test_a_named_model_keeps_its_name_whatever_the_outcome() -> None:
    recorder = IntervalRecorder()
    exchange = Exchange(recorder, lambda: 0.0, "POST", "/v1/chat/completions")
    exchange.model = "gpt-4o"
    exchange.error = validation_error("'messages' must be a non-empty array")

    exchange.finish(400)

    assert list(recorder.take().models) == ["gpt-4o"]
