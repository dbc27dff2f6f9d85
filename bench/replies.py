"""The mock upstream's canned answers, built once per model name and then served as bytes.

Each API gets a whole-reply body and a streamed reply. A streamed reply is a list of
*ticks*: the mock writes one tick at a time, ``interval`` apart, and every tick carries
exactly one piece of text. The opening events (``message_start``, the role chunk...) ride
with the first tick and the closing ones (usage, ``[DONE]``, ``message_stop``...) with the
last, so "64 chunks" means 64 pieces of text over 63 intervals, whatever the API.

The shapes follow the public API references closely enough for the official SDKs, our
gateway and LiteLLM to parse them; the token counts are fixed, not computed.
"""

from __future__ import annotations

from itertools import count
from typing import Any

import orjson

from llm_gateway.sse import encode_event
from llm_gateway.translate.fields import anthropic_message_head

CREATED = 1_767_225_600
INPUT_TOKENS = 12
REPLY_WORDS = ("The", "quick", "brown", "fox", "jumps", "over", "the", "lazy", "dog.")
REPLY_TEXT = " ".join(REPLY_WORDS)


def _json(value: Any) -> bytes:
    return orjson.dumps(value)


def _piece(index: int) -> str:
    return REPLY_WORDS[index % len(REPLY_WORDS)] + " "


def streamed_text(chunks: int) -> str:
    """The whole text of a streamed reply of ``chunks`` pieces."""
    return "".join(_piece(i) for i in range(chunks))


def models_list(models: list[str]) -> bytes:
    """``GET /v1/models`` in the OpenAI shape."""
    return _json(
        {
            "object": "list",
            "data": [
                {"id": name, "object": "model", "created": CREATED, "owned_by": "bench"}
                for name in models
            ],
        }
    )


def openai_completion(model: str) -> bytes:
    return _json(
        {
            "id": "chatcmpl-bench",
            "object": "chat.completion",
            "created": CREATED,
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": REPLY_TEXT, "refusal": None},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": INPUT_TOKENS,
                "completion_tokens": len(REPLY_WORDS),
                "total_tokens": INPUT_TOKENS + len(REPLY_WORDS),
            },
        }
    )


def openai_stream(model: str, chunks: int) -> list[bytes]:
    """Chat Completions chunks; the usage chunk is always sent, as with ``include_usage``."""

    def chunk(delta: dict[str, str], finish: str | None = None, **extra: Any) -> bytes:
        body = {
            "id": "chatcmpl-bench",
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
            **extra,
        }
        return encode_event(_json(body))

    ticks = [chunk({"content": _piece(i)}) for i in range(chunks)]
    ticks[0] = chunk({"role": "assistant", "content": ""}) + ticks[0]
    usage = {
        "prompt_tokens": INPUT_TOKENS,
        "completion_tokens": chunks,
        "total_tokens": INPUT_TOKENS + chunks,
    }
    closing = _json(
        {
            "id": "chatcmpl-bench",
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": model,
            "choices": [],
            "usage": usage,
        }
    )
    ticks[-1] += chunk({}, "stop") + encode_event(closing) + encode_event(b"[DONE]")
    return ticks


def anthropic_message(model: str) -> bytes:
    return _json(
        {
            "id": "msg_bench",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [{"type": "text", "text": REPLY_TEXT}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": INPUT_TOKENS, "output_tokens": len(REPLY_WORDS)},
        }
    )


def anthropic_stream(model: str, chunks: int) -> list[bytes]:
    def event(name: str, body: dict[str, Any]) -> bytes:
        return encode_event(_json({"type": name, **body}), name)

    start = anthropic_message_head("msg_bench", model, INPUT_TOKENS)
    # Anthropic's message_start already counts the first output token.
    start["usage"]["output_tokens"] = 1
    ticks = [
        event(
            "content_block_delta",
            {"index": 0, "delta": {"type": "text_delta", "text": _piece(i)}},
        )
        for i in range(chunks)
    ]
    ticks[0] = (
        event("message_start", {"message": start})
        + event("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}})
        + ticks[0]
    )
    ticks[-1] += (
        event("content_block_stop", {"index": 0})
        + event(
            "message_delta",
            {
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": chunks},
            },
        )
        + event("message_stop", {})
    )
    return ticks


def _response(model: str, status: str, text: str | None, output_tokens: int) -> dict[str, Any]:
    """A Responses API ``response`` object; ``text=None`` gives the empty, in-progress one."""
    output = []
    if text is not None:
        output.append(
            {
                "type": "message",
                "id": "msg_bench",
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": text, "annotations": []}],
            }
        )
    return {
        "id": "resp_bench",
        "object": "response",
        "created_at": CREATED,
        "status": status,
        "model": model,
        "output": output,
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "metadata": {},
        "usage": {
            "input_tokens": INPUT_TOKENS,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": output_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": INPUT_TOKENS + output_tokens,
        },
    }


def responses_response(model: str) -> bytes:
    return _json(_response(model, "completed", REPLY_TEXT, len(REPLY_WORDS)))


def responses_stream(model: str, chunks: int) -> list[bytes]:
    sequence = count()

    def event(name: str, body: dict[str, Any]) -> bytes:
        return encode_event(_json({"type": name, "sequence_number": next(sequence), **body}), name)

    where = {"item_id": "msg_bench", "output_index": 0, "content_index": 0}
    text = streamed_text(chunks)
    empty_item = {
        "type": "message",
        "id": "msg_bench",
        "status": "in_progress",
        "role": "assistant",
        "content": [],
    }
    empty_part = {"type": "output_text", "text": "", "annotations": []}
    done_part = {"type": "output_text", "text": text, "annotations": []}
    opening = (
        event("response.created", {"response": _response(model, "in_progress", None, 0)})
        + event("response.output_item.added", {"output_index": 0, "item": empty_item})
        + event("response.content_part.added", {**where, "part": empty_part})
    )
    ticks = [
        event("response.output_text.delta", {**where, "delta": _piece(i), "logprobs": []})
        for i in range(chunks)
    ]
    ticks[0] = opening + ticks[0]
    done_item = {**empty_item, "status": "completed", "content": [done_part]}
    ticks[-1] += (
        event("response.output_text.done", {**where, "text": text, "logprobs": []})
        + event("response.content_part.done", {**where, "part": done_part})
        + event("response.output_item.done", {"output_index": 0, "item": done_item})
        + event("response.completed", {"response": _response(model, "completed", text, chunks)})
    )
    return ticks
