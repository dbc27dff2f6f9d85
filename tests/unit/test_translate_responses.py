"""Whole-response translation, Anthropic Messages <-> OpenAI Chat Completions.

Every translated reply is also validated by the official SDK's own response model, the
shape a real client would parse it into.
"""

from __future__ import annotations

from typing import Any

import pytest
from anthropic.types import Message
from openai.types.chat import ChatCompletion

from llm_gateway.errors import GatewayError
from llm_gateway.translate import anthropic_response_to_openai, openai_response_to_anthropic

CREATED = 1_790_000_000


def clock() -> float:
    return CREATED + 0.75


def anthropic_reply(
    content: list[dict[str, Any]], stop_reason: str = "end_turn", **usage: int
) -> dict[str, Any]:
    return {
        "id": "msg_01AbC",
        "type": "message",
        "role": "assistant",
        "model": "claude-test",
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": 12, "output_tokens": 5, **usage},
    }


def openai_reply(
    message: dict[str, Any], finish_reason: str = "stop", **choice: Any
) -> dict[str, Any]:
    return {
        "id": "chatcmpl-01AbC",
        "object": "chat.completion",
        "created": CREATED,
        "model": "gpt-test",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", **message},
                "logprobs": None,
                "finish_reason": finish_reason,
                **choice,
            }
        ],
        "usage": {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17},
    }


def to_openai(body: dict[str, Any]) -> dict[str, Any]:
    translated = anthropic_response_to_openai(body, clock=clock)
    ChatCompletion.model_validate(translated)
    return translated


def to_anthropic(body: dict[str, Any]) -> dict[str, Any]:
    translated = openai_response_to_anthropic(body)
    Message.model_validate(translated)
    return translated


TOOL_USES = [
    {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
    {"type": "tool_use", "id": "toolu_2", "name": "now", "input": {}},
]
TOOL_CALLS = [
    {
        "id": "toolu_1",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
    },
    {"id": "toolu_2", "type": "function", "function": {"name": "now", "arguments": "{}"}},
]


def test_anthropic_text_reply_becomes_a_chat_completion() -> None:
    body = anthropic_reply(
        [
            {"type": "thinking", "thinking": "Easy.", "signature": "c2ln"},
            {"type": "text", "text": "Hello"},
            {"type": "text", "text": ", world."},
        ]
    )

    assert to_openai(body) == {
        "id": "chatcmpl-01AbC",
        "object": "chat.completion",
        "created": CREATED,
        "model": "claude-test",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hello, world."},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17},
    }


def test_anthropic_parallel_tool_use_becomes_tool_calls() -> None:
    body = anthropic_reply([{"type": "text", "text": "Checking."}, *TOOL_USES], "tool_use")

    choice = to_openai(body)["choices"][0]

    assert choice["message"] == {
        "role": "assistant",
        "content": "Checking.",
        "tool_calls": TOOL_CALLS,
    }
    assert choice["finish_reason"] == "tool_calls"


def test_anthropic_tool_use_only_reply_has_null_content() -> None:
    message = to_openai(anthropic_reply(TOOL_USES, "tool_use"))["choices"][0]["message"]

    assert message["content"] is None


def test_anthropic_empty_reply_has_empty_content() -> None:
    message = to_openai(anthropic_reply([]))["choices"][0]["message"]

    assert message == {"role": "assistant", "content": ""}


@pytest.mark.parametrize(
    ("stop_reason", "finish_reason"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("pause_turn", "stop"),
        ("max_tokens", "length"),
        ("model_context_window_exceeded", "length"),
        ("tool_use", "tool_calls"),
        ("refusal", "content_filter"),
        (None, "stop"),
    ],
)
def test_anthropic_stop_reasons(stop_reason: str | None, finish_reason: str) -> None:
    body = anthropic_reply([{"type": "text", "text": "x"}])
    body["stop_reason"] = stop_reason

    assert to_openai(body)["choices"][0]["finish_reason"] == finish_reason


def test_anthropic_cache_tokens_count_as_prompt_tokens() -> None:
    body = anthropic_reply(
        [{"type": "text", "text": "x"}],
        cache_creation_input_tokens=100,
        cache_read_input_tokens=1000,
    )

    assert to_openai(body)["usage"] == {
        "prompt_tokens": 1112,
        "completion_tokens": 5,
        "total_tokens": 1117,
    }


def test_openai_text_reply_becomes_an_anthropic_message() -> None:
    body = openai_reply({"content": "Hello, world.", "refusal": None})

    assert to_anthropic(body) == {
        "id": "msg_01AbC",
        "type": "message",
        "role": "assistant",
        "model": "gpt-test",
        "content": [{"type": "text", "text": "Hello, world."}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 12, "output_tokens": 5},
    }


def test_openai_tool_calls_become_tool_use_blocks() -> None:
    body = openai_reply({"content": None, "tool_calls": TOOL_CALLS}, "tool_calls")

    translated = to_anthropic(body)

    assert translated["content"] == TOOL_USES
    assert translated["stop_reason"] == "tool_use"


def test_openai_tool_calls_ended_with_stop_still_read_as_tool_use() -> None:
    body = openai_reply({"content": "Checking.", "tool_calls": TOOL_CALLS[:1]}, "stop")

    translated = to_anthropic(body)

    assert translated["content"] == [{"type": "text", "text": "Checking."}, TOOL_USES[0]]
    assert translated["stop_reason"] == "tool_use"


@pytest.mark.parametrize(
    ("finish_reason", "stop_reason"),
    [
        ("stop", "end_turn"),
        ("length", "max_tokens"),
        ("tool_calls", "tool_use"),
        ("function_call", "tool_use"),
        ("content_filter", "refusal"),
    ],
)
def test_openai_finish_reasons(finish_reason: str, stop_reason: str) -> None:
    translated = to_anthropic(openai_reply({"content": "x"}, finish_reason))

    assert (translated["stop_reason"], translated["stop_sequence"]) == (stop_reason, None)


def test_openai_matched_stop_string_becomes_the_stop_sequence() -> None:
    body = openai_reply({"content": "x"}, "stop", stop_reason="END")

    translated = to_anthropic(body)

    assert (translated["stop_reason"], translated["stop_sequence"]) == ("stop_sequence", "END")


def test_openai_reply_without_usage_counts_zero() -> None:
    body = openai_reply({"content": "x"})
    del body["usage"]

    assert to_anthropic(body)["usage"] == {"input_tokens": 0, "output_tokens": 0}


@pytest.mark.parametrize(
    "body",
    [
        {"id": "chatcmpl-1", "choices": []},
        {"choices": [{"message": {"content": "x"}}]},
        openai_reply(
            {
                "content": None,
                "tool_calls": [
                    {"id": "c", "type": "function", "function": {"name": "f", "arguments": "[1]"}}
                ],
            }
        ),
    ],
)
def test_malformed_openai_reply_is_an_upstream_error(body: dict[str, Any]) -> None:
    with pytest.raises(GatewayError) as caught:
        openai_response_to_anthropic(body)

    assert (caught.value.error_type, caught.value.status) == ("upstream", 502)
    assert caught.value.message.startswith("unexpected upstream reply: ")


def test_malformed_anthropic_reply_is_an_upstream_error() -> None:
    with pytest.raises(GatewayError, match="missing field 'content'") as caught:
        anthropic_response_to_openai({"id": "msg_1", "type": "message"})

    assert (caught.value.error_type, caught.value.status) == ("upstream", 502)


def test_anthropic_reply_round_trip() -> None:
    body = anthropic_reply([{"type": "text", "text": "Checking."}, *TOOL_USES], "tool_use")
    body["model"] = "gpt-test"

    assert to_anthropic(to_openai(body)) == body


def test_openai_reply_round_trip() -> None:
    body = openai_reply({"content": "Checking.", "tool_calls": TOOL_CALLS}, "tool_calls")

    assert to_openai(to_anthropic(body)) == body
