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
    anthropic_input_tokens,
    anthropic_stop,
    anthropic_tool_use,
    openai_assistant_message,
    openai_finish_reason,
    openai_id,
    openai_usage,
)
from llm_gateway.translate.malformed import blames, upstream_error


@blames(upstream_error)
def anthropic_response_to_openai(
    body: dict[str, Any], *, clock: Callable[[], float] = time.time
) -> dict[str, Any]:
    """An Anthropic Messages reply as an OpenAI ``chat.completion``.

    ``clock`` gives the ``created`` timestamp, which Anthropic replies do not carry.
    """
    usage = body.get("usage") or {}
    return {
        "id": openai_id(body["id"]),
        "object": "chat.completion",
        "created": int(clock()),
        "model": body.get("model") or "",
        "choices": [
            {
                "index": 0,
                "message": openai_assistant_message(body["content"]),
                "logprobs": None,
                "finish_reason": openai_finish_reason(body.get("stop_reason")),
            }
        ],
        "usage": openai_usage(anthropic_input_tokens(usage), usage.get("output_tokens") or 0),
    }


@blames(upstream_error)
def openai_response_to_anthropic(body: dict[str, Any]) -> dict[str, Any]:
    """An OpenAI ``chat.completion`` (its first choice) as an Anthropic Messages reply."""
    if not body["choices"]:
        raise upstream_error("no choices")
    choice = body["choices"][0]
    message = choice["message"]
    content: list[dict[str, Any]] = []
    if message.get("content"):
        content.append({"type": "text", "text": message["content"]})
    calls = message.get("tool_calls") or ()
    content.extend(anthropic_tool_use(call) for call in calls)
    stop_reason, stop_sequence = anthropic_stop(choice, called_tools=bool(calls))
    usage = body.get("usage") or {}
    return {
        "id": anthropic_id(body["id"]),
        "type": "message",
        "role": "assistant",
        "model": body.get("model") or "",
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": stop_sequence,
        "usage": {
            "input_tokens": usage.get("prompt_tokens") or 0,
            "output_tokens": usage.get("completion_tokens") or 0,
        },
    }
