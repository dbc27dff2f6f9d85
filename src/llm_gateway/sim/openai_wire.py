"""A completion in OpenAI Chat Completions shape: a ``chat.completion`` body or chunk stream."""

from __future__ import annotations

from typing import Any

import orjson

from llm_gateway.sim.completion import Completion
from llm_gateway.sim.wire import Lazy, Stream, sse

_FINISH_REASONS = {"end": "stop", "length": "length", "stop_sequence": "stop", "tool": "tool_calls"}
_DONE = b"data: [DONE]\n\n"


def openai_body(completion: Completion, model: str, created: int) -> bytes:
    message: dict[str, Any] = {"role": "assistant", "content": completion.text, "refusal": None}
    call = completion.tool_call
    if call is not None:
        message["content"] = None
        message["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments},
            }
        ]
    choice = {
        "index": 0,
        "message": message,
        "logprobs": None,
        "finish_reason": _FINISH_REASONS[completion.stop_reason],
    }
    return orjson.dumps(
        {
            **_envelope(completion, model, created, "chat.completion"),
            "choices": [choice],
            "usage": openai_usage(completion),
        }
    )


def openai_stream(
    completion: Completion, model: str, created: int, *, include_usage: bool
) -> Stream:
    """The chunk stream; with ``include_usage``, every chunk has ``usage: null`` and a
    usage-only chunk with no choices comes last, as OpenAI sends them."""
    envelope = _envelope(completion, model, created, "chat.completion.chunk")

    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        data: dict[str, Any] = {**envelope, "choices": [choice]}
        if include_usage:
            data["usage"] = None
        return sse(data)

    call = completion.tool_call
    if call is None:
        first = chunk({"role": "assistant", "content": "", "refusal": None})
        tokens = Lazy(completion.pieces, lambda piece: chunk({"content": piece}))
    else:
        opening = {
            "index": 0,
            "id": call.id,
            "type": "function",
            "function": {"name": call.name, "arguments": ""},
        }
        first = chunk({"role": "assistant", "content": None, "tool_calls": [opening]})
        tokens = Lazy(
            completion.pieces,
            lambda piece: chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}),
        )
    tail = [chunk({}, _FINISH_REASONS[completion.stop_reason])]
    if include_usage:
        tail.append(sse({**envelope, "choices": [], "usage": openai_usage(completion)}))
    tail.append(_DONE)
    return Stream(head=(first,), tokens=tokens, tail=tuple(tail))


def openai_usage(completion: Completion) -> dict[str, int]:
    return {
        "prompt_tokens": completion.input_tokens,
        "completion_tokens": completion.output_tokens,
        "total_tokens": completion.input_tokens + completion.output_tokens,
    }


def _envelope(completion: Completion, model: str, created: int, kind: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-" + completion.request_id,
        "object": kind,
        "created": created,
        "model": model,
    }
