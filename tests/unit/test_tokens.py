"""The shared token estimate, for requests of every API's shape."""

from __future__ import annotations

from typing import Any

import orjson

from llm_gateway.tokens import IMAGE_TOKENS, estimate_input_tokens, estimate_request_tokens

TOOLS_OPENAI = [{"type": "function", "function": {"name": "f", "parameters": {}}}]
TOOLS_RESPONSES = [{"type": "function", "name": "f", "parameters": {}}]


def test_a_chat_request_counts_its_text_images_tool_calls_and_tools() -> None:
    request: dict[str, Any] = {
        "model": "m",
        "messages": [
            {"role": "system", "content": "s" * 40},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "u" * 40},
                    {
                        "type": "image_url",
                        "image_url": {"url": "data:image/png;base64," + "A" * 999},
                    },
                ],
            },
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}
                ],
            },
            {"role": "tool", "tool_call_id": "c", "content": "t" * 37},
        ],
        "tools": TOOLS_OPENAI,
    }
    chars = 40 + 40 + len("f") + len("{}") + 37 + len(orjson.dumps(TOOLS_OPENAI))
    assert estimate_request_tokens("openai", request) == -(-chars // 4) + IMAGE_TOKENS


def test_a_responses_request_counts_its_instructions_input_items_and_tools() -> None:
    request: dict[str, Any] = {
        "model": "m",
        "instructions": "i" * 20,
        "input": [
            {"role": "user", "content": [{"type": "input_text", "text": "u" * 20}]},
            {"type": "input_image", "image_url": "https://example.com/x.png"},
            {"type": "function_call", "call_id": "c", "name": "f", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "c", "output": "o" * 19},
        ],
        "tools": TOOLS_RESPONSES,
    }
    chars = 20 + 20 + len("f") + len("{}") + 19 + len(orjson.dumps(TOOLS_RESPONSES))
    assert estimate_request_tokens("responses", request) == -(-chars // 4) + IMAGE_TOKENS
    assert estimate_request_tokens("responses", {"input": "x" * 8}) == 2


def test_an_anthropic_request_is_estimated_as_for_kiro() -> None:
    request = {"system": "s" * 10, "messages": [{"role": "user", "content": "u" * 10}]}
    assert estimate_request_tokens("anthropic", request) == estimate_input_tokens(request) == 5
