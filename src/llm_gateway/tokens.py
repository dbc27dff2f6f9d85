"""A tokenizer-free estimate of a request's size in tokens.

Used where no upstream can count for us (``count_tokens`` on a simulator or OpenAI route,
Kiro's missing usage figures). English text averages about four characters per token
for the Claude and GPT tokenizers; the estimate is that, rounded up, over every piece of
text a model reads: system prompt, messages, tool definitions and tool results.
"""

from __future__ import annotations

from typing import Any

import orjson

CHARS_PER_TOKEN = 4
# Images are billed by size upstream; this is a typical figure for a mid-sized image.
IMAGE_TOKENS = 1000


def estimate_text_tokens(text: str) -> int:
    return -(-len(text) // CHARS_PER_TOKEN)


def estimate_request_tokens(body: dict[str, Any]) -> int:
    """Estimated input tokens of an OpenAI or Anthropic request body."""
    total = _estimate_value(body.get("system"))
    for message in body.get("messages") or ():
        total += _estimate_value(message.get("content") if isinstance(message, dict) else None)
        if isinstance(message, dict) and message.get("tool_calls"):
            total += estimate_text_tokens(orjson.dumps(message["tool_calls"]).decode())
    if body.get("tools"):
        total += estimate_text_tokens(orjson.dumps(body["tools"]).decode())
    return max(total, 1)


def _estimate_value(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, str):
        return estimate_text_tokens(value)
    if isinstance(value, list):
        return sum(_estimate_part(part) for part in value)
    return estimate_text_tokens(orjson.dumps(value).decode())


def _estimate_part(part: Any) -> int:
    if not isinstance(part, dict):
        return _estimate_value(part)
    kind = part.get("type")
    if kind in ("image", "image_url"):
        return IMAGE_TOKENS
    if isinstance(part.get("text"), str):
        return estimate_text_tokens(part["text"])
    if kind == "tool_use":
        return estimate_text_tokens(orjson.dumps(part.get("input")).decode())
    if kind == "tool_result":
        return _estimate_value(part.get("content"))
    return estimate_text_tokens(orjson.dumps(part).decode())
