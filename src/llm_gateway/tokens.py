"""Token estimates, for where no upstream counts for us.

Kiro bills in credits and never says how many tokens a request used, and
``/v1/messages/count_tokens`` on a route whose upstream cannot count still deserves an
answer. We estimate the way Anthropic's own documentation suggests for English text:
about four characters per token. Images count a flat
:data:`IMAGE_TOKENS` each (Anthropic charges ``width * height / 750``, which is about
1,600 for the common 1,092 x 1,092 size; we do not decode the image to know).

Every Kiro figure from here is flagged ``tokens_estimated`` on the reply, so logs and the
dashboard can mark it; it is never mixed with the credits Kiro reports. So is the prompt
of a stream cut short (its client left, or it failed) before its upstream sent its usage.
"""

from __future__ import annotations

from typing import Any

import orjson

from llm_gateway.apis import Api

CHARS_PER_TOKEN = 4
IMAGE_TOKENS = 1600

_TEXT_FIELDS = (
    "text",
    "content",
    "arguments",
    "output",
    "input",
    "refusal",
    "summary",
    "tool_calls",
    "function",
    "name",
)
"""Where the text of a Chat Completions message or a Responses item (and of their content
parts, tool calls and tool results) is."""
_IMAGE_TYPES = frozenset({"image", "image_url", "input_image"})


def tokens_for_chars(chars: int) -> int:
    return -(-chars // CHARS_PER_TOKEN)


def estimate_request_tokens(api: Api, request: dict[str, Any]) -> int:
    """Estimated prompt tokens of a request in any API's shape.

    For a stream cut short before its upstream said how many it used, so that the prompt
    is counted (marked as an estimate) rather than as none.
    """
    if api == "anthropic":
        return estimate_input_tokens(request)
    if api == "openai":
        chars, images = _chars_and_images(request.get("messages"))
    else:
        chars, images = _chars_and_images([request.get("instructions"), request.get("input")])
    tools = request.get("tools")
    if tools:
        chars += len(orjson.dumps(tools))
    return tokens_for_chars(chars) + images * IMAGE_TOKENS


def _chars_and_images(value: Any) -> tuple[int, int]:
    """The characters of text in ``value`` (messages, items, parts: any nesting of them),
    and how many images it holds."""
    if isinstance(value, str):
        return len(value), 0
    chars = images = 0
    if isinstance(value, list):
        for item in value:
            more_chars, more_images = _chars_and_images(item)
            chars, images = chars + more_chars, images + more_images
    elif isinstance(value, dict):
        if value.get("type") in _IMAGE_TYPES:
            return 0, 1
        for field in _TEXT_FIELDS:
            more_chars, more_images = _chars_and_images(value.get(field))
            chars, images = chars + more_chars, images + more_images
    return chars, images


def estimate_input_tokens(request: dict[str, Any]) -> int:
    """Estimated prompt tokens of an Anthropic Messages request: system, messages and tools."""
    chars = 0
    images = 0
    system = request.get("system")
    if isinstance(system, str):
        chars += len(system)
    elif isinstance(system, list):
        chars += sum(_block_chars(block) for block in system if isinstance(block, dict))
    for message in request.get("messages") or ():
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            chars += len(content)
            continue
        for block in content or ():
            if not isinstance(block, dict):
                continue
            chars += _block_chars(block)
            images += _block_images(block)
    tools = request.get("tools")
    if tools:
        chars += len(orjson.dumps(tools))
    return tokens_for_chars(chars) + images * IMAGE_TOKENS


def _block_chars(block: dict[str, Any]) -> int:
    kind = block.get("type")
    if kind == "text":
        return len(block.get("text") or "")
    if kind == "tool_use":
        return len(block.get("name") or "") + len(orjson.dumps(block.get("input") or {}))
    if kind == "tool_result":
        content = block.get("content")
        if isinstance(content, str):
            return len(content)
        return sum(_block_chars(inner) for inner in content or () if isinstance(inner, dict))
    return 0


def _block_images(block: dict[str, Any]) -> int:
    if block.get("type") == "image":
        return 1
    content = block.get("content") if block.get("type") == "tool_result" else None
    if isinstance(content, list):
        return sum(
            1 for inner in content if isinstance(inner, dict) and inner.get("type") == "image"
        )
    return 0
