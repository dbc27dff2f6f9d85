"""An upstream's error reaches the client as it said it, or translated; ours keep our shape."""

from __future__ import annotations

import orjson
import pytest

from llm_gateway.errors import GatewayError
from llm_gateway.frontends.shapes import ANTHROPIC, OPENAI
from llm_gateway.frontends.upstream_errors import error_body, error_event, error_headers
from llm_gateway.translate.errors import anthropic_error_to_openai, openai_error_to_anthropic

OPENAI_BODY = (
    b'{"error": {"message": "too long", "type": "invalid_request_error",'
    b' "param": "messages", "code": "context_length_exceeded"}}'
)
ANTHROPIC_BODY = (
    b'{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},'
    b'"request_id":"req_1"}'
)


def upstream(status: int, body: bytes, api: str | None) -> GatewayError:
    return GatewayError(
        "upstream",
        status,
        "summary for the log",
        upstream_body=body,
        upstream_api=api,  # type: ignore[arg-type]
        upstream_headers={"Retry-After": "3", "Server": "x"},
    )


def test_pass_through_keeps_every_byte() -> None:
    assert error_body(upstream(400, OPENAI_BODY, "openai"), OPENAI) == OPENAI_BODY
    assert error_body(upstream(529, ANTHROPIC_BODY, "anthropic"), ANTHROPIC) == ANTHROPIC_BODY


def test_across_apis_the_message_stays_and_the_type_finds_its_counterpart() -> None:
    to_openai = orjson.loads(error_body(upstream(529, ANTHROPIC_BODY, "anthropic"), OPENAI))
    assert to_openai == {
        "error": {
            "message": "Overloaded",
            "type": "server_error",
            "param": None,
            "code": "overloaded_error",
        }
    }
    to_anthropic = orjson.loads(error_body(upstream(400, OPENAI_BODY, "openai"), ANTHROPIC))
    assert to_anthropic == {
        "type": "error",
        "error": {"type": "invalid_request_error", "message": "too long"},
    }


@pytest.mark.parametrize(
    ("payload", "status", "expected"),
    [
        (
            {"error": {"message": "m", "type": "tokens", "code": "rate_limit_exceeded"}},
            429,
            "rate_limit_error",
        ),
        (
            {"error": {"message": "m", "type": "insufficient_quota", "code": None}},
            429,
            "billing_error",
        ),
        ({"error": {"message": "m", "type": "server_error"}}, 500, "api_error"),
        ({"error": {"message": "m", "type": "odd"}}, 529, "overloaded_error"),
        ({"error": "a bare message"}, 400, "invalid_request_error"),
    ],
)
def test_openai_error_types_to_anthropic(payload: object, status: int, expected: str) -> None:
    translated = openai_error_to_anthropic(payload, status)
    assert translated is not None
    assert translated["error"]["type"] == expected


def test_an_unknown_anthropic_type_follows_the_status() -> None:
    translated = anthropic_error_to_openai({"error": {"type": "new_error", "message": "m"}}, 404)
    assert translated == {
        "error": {"message": "m", "type": "not_found_error", "param": None, "code": "new_error"}
    }


@pytest.mark.parametrize(
    "error",
    [
        upstream(502, b"<html>Bad gateway</html>", "openai"),  # a proxy's page: no API's error
        upstream(403, b'{"message": "denied", "reason": null}', None),  # Kiro's own shape
        upstream(500, b'{"neither": "shape"}', "anthropic"),  # translated: not an error body
        GatewayError("timeout", 504, "upstream timed out"),  # the gateway's own
    ],
)
def test_what_is_no_apis_error_gets_the_gateways_shape(error: GatewayError) -> None:
    assert error_body(error, OPENAI) == OPENAI.error_body(error)
    assert error_event(error, OPENAI) == OPENAI.stream_error(error)


def test_an_error_event_keeps_its_type_in_either_api() -> None:
    data = b'{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}'
    error = upstream(502, data, "anthropic")
    assert error_event(error, ANTHROPIC) == b"event: error\ndata: " + data + b"\n\n"
    event = error_event(error, OPENAI)
    assert event.startswith(b"data: ")
    assert orjson.loads(event[6:])["error"]["code"] == "overloaded_error"


def test_an_error_event_spread_over_lines_is_sent_on_one() -> None:
    error = upstream(502, b'{"error":\n{"message": "m", "type": "server_error"}}', "openai")
    assert (
        error_event(error, OPENAI) == b'data: {"error":{"message":"m","type":"server_error"}}\n\n'
    )


def test_headers_the_upstream_sent_come_back_and_the_gateways_own_retry_after_wins() -> None:
    error = upstream(429, OPENAI_BODY, "openai")
    assert error_headers(error) == [(b"retry-after", b"3")]
    error.retry_after = 30
    assert error_headers(error) == [(b"retry-after", b"30")]
