"""A completion in Anthropic Messages shape: a ``message`` body or its event stream."""

from __future__ import annotations

from typing import Any

import orjson

from llm_gateway.sim.completion import Completion
from llm_gateway.sim.wire import Lazy, Stream, sse
from llm_gateway.translate.fields import anthropic_message_head

_STOP_REASONS = {
    "end": "end_turn",
    "length": "max_tokens",
    "stop_sequence": "stop_sequence",
    "tool": "tool_use",
}


def anthropic_body(completion: Completion, model: str) -> bytes:
    message = _message(completion, model)
    call = completion.tool_call
    if call is None:
        block: dict[str, Any] = {"type": "text", "text": completion.text}
    else:
        block = {"type": "tool_use", "id": call.id, "name": call.name, "input": call.input}
    message["content"] = [block]
    message["stop_reason"] = _STOP_REASONS[completion.stop_reason]
    message["stop_sequence"] = completion.stop_sequence
    message["usage"]["output_tokens"] = completion.output_tokens
    return orjson.dumps(message)


def anthropic_stream(completion: Completion, model: str) -> Stream:
    """message_start, content_block_start, ping, a delta per token, then the closing events."""
    message = _message(completion, model)
    # Anthropic's message_start already counts the first output token.
    message["usage"]["output_tokens"] = 1
    call = completion.tool_call
    if call is None:
        block: dict[str, Any] = {"type": "text", "text": ""}
        delta_type, field = "text_delta", "text"
    else:
        block = {"type": "tool_use", "id": call.id, "name": call.name, "input": {}}
        delta_type, field = "input_json_delta", "partial_json"
    head = (
        sse({"type": "message_start", "message": message}, "message_start"),
        sse(
            {"type": "content_block_start", "index": 0, "content_block": block},
            "content_block_start",
        ),
        sse({"type": "ping"}, "ping"),
    )
    tokens = Lazy(
        completion.pieces,
        lambda piece: sse(
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": delta_type, field: piece},
            },
            "content_block_delta",
        ),
    )
    stop = {
        "stop_reason": _STOP_REASONS[completion.stop_reason],
        "stop_sequence": completion.stop_sequence,
    }
    tail = (
        sse({"type": "content_block_stop", "index": 0}, "content_block_stop"),
        sse(
            {
                "type": "message_delta",
                "delta": stop,
                "usage": {"output_tokens": completion.output_tokens},
            },
            "message_delta",
        ),
        sse({"type": "message_stop"}, "message_stop"),
    )
    return Stream(head=head, tokens=tokens, tail=tail)


def _message(completion: Completion, model: str) -> dict[str, Any]:
    """The message as message_start announces it, with the cache counts the real API adds."""
    message = anthropic_message_head("msg_" + completion.request_id, model, completion.input_tokens)
    message["usage"].update(cache_creation_input_tokens=0, cache_read_input_tokens=0)
    return message
