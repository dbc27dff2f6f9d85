"""Facts about each API shape that the generic request pipeline needs.

Everything that differs between "an OpenAI client" and "an Anthropic client" once the
request is validated lives in one :class:`Shape` per API: how its errors look (whole and
mid-stream), where its usage figures are, how its stream ends, and how to translate into
and out of the other shape.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from llm_gateway.apis import Api
from llm_gateway.errors import (
    GatewayError,
    anthropic_error_body,
    anthropic_error_payload,
    openai_error_body,
    openai_error_payload,
)
from llm_gateway.sse import SSEEvent, encode_event
from llm_gateway.translate.fields import anthropic_input_tokens, token_count


def _openai_usage(body: dict[str, Any]) -> tuple[int, int]:
    usage = body.get("usage")
    if not isinstance(usage, dict):
        return 0, 0
    return token_count(usage.get("prompt_tokens")), token_count(usage.get("completion_tokens"))


def _anthropic_usage(body: dict[str, Any]) -> tuple[int, int]:
    usage = body.get("usage")
    if not isinstance(usage, dict):
        return 0, 0
    return anthropic_input_tokens(usage), token_count(usage.get("output_tokens"))


def _openai_stream_error(error: GatewayError) -> bytes:
    return encode_event(orjson.dumps(openai_error_payload(error)))


def _anthropic_stream_error(error: GatewayError) -> bytes:
    return encode_event(orjson.dumps(anthropic_error_payload(error)), "error")


def _responses_usage(body: dict[str, Any]) -> tuple[int, int]:
    usage = body.get("usage")
    if not isinstance(usage, dict):
        return 0, 0
    return token_count(usage.get("input_tokens")), token_count(usage.get("output_tokens"))


RESPONSES_STREAM_ENDS = frozenset(
    {"response.completed", "response.incomplete", "response.failed", "error"}
)
"""The events that end a Responses API stream."""


def _responses_stream_end(event: SSEEvent) -> bool:
    return event.event in RESPONSES_STREAM_ENDS


def _openai_stream_end(event: SSEEvent) -> bool:
    return event.data == b"[DONE]"


def _anthropic_stream_end(event: SSEEvent) -> bool:
    return event.event == "message_stop"


@dataclass(frozen=True, slots=True)
class Shape:
    api: Api
    error_body: Callable[[GatewayError], bytes]
    stream_error: Callable[[GatewayError], bytes]
    usage: Callable[[dict[str, Any]], tuple[int, int]]
    """(input, output) tokens of a complete response in this shape."""
    is_stream_end: Callable[[SSEEvent], bool]


OPENAI = Shape("openai", openai_error_body, _openai_stream_error, _openai_usage, _openai_stream_end)
ANTHROPIC = Shape(
    "anthropic",
    anthropic_error_body,
    _anthropic_stream_error,
    _anthropic_usage,
    _anthropic_stream_end,
)
# A Responses stream fails with its own numbered event, which only the relay can write.
RESPONSES = Shape(
    "responses",
    openai_error_body,
    _openai_stream_error,
    _responses_usage,
    _responses_stream_end,
)
SHAPES: dict[Api, Shape] = {"openai": OPENAI, "anthropic": ANTHROPIC, "responses": RESPONSES}
