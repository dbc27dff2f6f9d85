"""Whole (non-streaming) response bodies: Anthropic Messages <-> OpenAI Chat Completions.

An Anthropic reply is a list of content blocks; an OpenAI reply is one choice whose
message has a ``content`` string and a separate ``tool_calls`` list. A reply of the
wrong shape is the upstream's fault, so it raises an ``upstream`` 502.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from llm_gateway.translate.fields import (
    anthropic_id,
    anthropic_stop,
    anthropic_tool_use,
    anthropic_usage,
    openai_assistant_message,
    openai_finish_reason,
    openai_id,
    openai_usage,
)
from llm_gateway.translate.malformed import blames, upstream_error
from llm_gateway.translate.reasoning import (
    anthropic_thinking_block,
    openai_reasoning,
    reasoning_text,
)


@blames(upstream_error)
def anthropic_response_to_openai(
    body: dict[str, Any], *, prefill: str = "", clock: Callable[[], float] = time.time
) -> dict[str, Any]:
    """An Anthropic Messages reply as an OpenAI ``chat.completion``.

    ``prefill`` is what the request put in the answer's mouth (see
    :func:`~llm_gateway.translate.requests.json_prefill`); the answer continues it, so it
    goes back in front. ``clock`` gives the ``created`` timestamp, which Anthropic replies
    do not carry. A refusal keeps its text and repeats it as ``refusal``, where OpenAI
    clients look for one.
    """
    blocks = body["content"]
    message = openai_assistant_message(blocks)
    if prefill and message["content"] is not None:
        message["content"] = prefill + message["content"]
    reasoning = openai_reasoning(blocks)
    message.update(reasoning)
    if body.get("stop_reason") == "refusal":
        message["refusal"] = message["content"] or ""
    usage = body.get("usage") or {}
    return {
        "id": openai_id(body["id"]),
        "object": "chat.completion",
        "created": int(clock()),
        "model": body.get("model") or "",
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": openai_finish_reason(body.get("stop_reason")),
            }
        ],
        "usage": openai_usage(usage, len(reasoning.get("reasoning_content", ""))),
    }


@blames(upstream_error)
def openai_response_to_anthropic(body: dict[str, Any]) -> dict[str, Any]:
    """An OpenAI ``chat.completion`` (its first choice) as an Anthropic Messages reply.

    Reasoning text becomes a thinking block (unsigned: nothing signed it), a refusal a
    text block with ``stop_reason: "refusal"``. Tool arguments cut off by the token limit
    are kept as far as they go.
    """
    if not body["choices"]:
        raise upstream_error("no choices")
    choice = body["choices"][0]
    message = choice["message"]
    content: list[dict[str, Any]] = []
    reasoning = reasoning_text(message)
    if reasoning:
        content.append(anthropic_thinking_block(reasoning))
    text = message.get("content") or message.get("refusal")
    if text:
        content.append({"type": "text", "text": text})
    calls = message.get("tool_calls") or ()
    truncated = choice.get("finish_reason") == "length"
    content.extend(anthropic_tool_use(call, truncated=truncated) for call in calls)
    if message.get("refusal") and not message.get("content"):
        stop_reason, stop_sequence = "refusal", None
    else:
        stop_reason, stop_sequence = anthropic_stop(choice, called_tools=bool(calls))
    return {
        "id": anthropic_id(body["id"]),
        "type": "message",
        "role": "assistant",
        "model": body.get("model") or "",
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": stop_sequence,
        "usage": anthropic_usage(body.get("usage") or {}),
    }
