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
        "usage": {
            "input_tokens": 12,
            "output_tokens": 5,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            **usage,
        },
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
        "usage": openai_usage(12, 5),
    }


def openai_usage(prompt: int, completion: int, cached: int = 0, reasoning: int = 0) -> Any:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cached},
        "completion_tokens_details": {"reasoning_tokens": reasoning},
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
        [{"type": "text", "text": "Hello"}, {"type": "text", "text": ", world."}]
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
        "usage": openai_usage(12, 5),
    }


def test_anthropic_thinking_becomes_reasoning_content_with_its_signed_blocks() -> None:
    thinking = [
        {"type": "thinking", "thinking": "Paris is in France. ", "signature": "c2lnMQ=="},
        {"type": "redacted_thinking", "data": "ZW5j"},
        {"type": "thinking", "thinking": "Easy.", "signature": "c2lnMg=="},
    ]
    body = anthropic_reply([*thinking, {"type": "text", "text": "Paris."}], output_tokens=20)

    translated = to_openai(body)

    assert translated["choices"][0]["message"] == {
        "role": "assistant",
        "content": "Paris.",
        "reasoning_content": "Paris is in France. Easy.",
        "thinking_blocks": thinking,
    }
    # 25 characters of thinking: an estimate of 7 tokens, within the 20 of output.
    assert translated["usage"]["completion_tokens_details"] == {"reasoning_tokens": 7}


def test_anthropic_refusal_keeps_its_text_and_repeats_it_as_refusal() -> None:
    body = anthropic_reply([{"type": "text", "text": "I can't help with that."}], "refusal")

    choice = to_openai(body)["choices"][0]

    assert choice["message"]["content"] == "I can't help with that."
    assert choice["message"]["refusal"] == "I can't help with that."
    assert choice["finish_reason"] == "content_filter"


def test_anthropic_reply_to_a_json_prefill_gets_its_brace_back() -> None:
    body = anthropic_reply([{"type": "text", "text": '"city": "Paris"}'}])

    translated = anthropic_response_to_openai(body, prefill="{", clock=clock)

    assert translated["choices"][0]["message"]["content"] == '{"city": "Paris"}'


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

    # The whole prompt, of which the cache reads are cached_tokens.
    assert to_openai(body)["usage"] == openai_usage(1112, 5, cached=1000)


def test_openai_cached_tokens_are_cache_reads_apart_from_input_tokens() -> None:
    body = openai_reply({"content": "x"})
    body["usage"] = openai_usage(1112, 5, cached=1000)

    assert to_anthropic(body)["usage"] == {
        "input_tokens": 112,
        "output_tokens": 5,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 1000,
    }


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
def test_openai_reasoning_becomes_an_unsigned_thinking_block(field: str) -> None:
    body = openai_reply({field: "Paris is in France.", "content": "Paris."})

    assert to_anthropic(body)["content"] == [
        {"type": "thinking", "thinking": "Paris is in France.", "signature": ""},
        {"type": "text", "text": "Paris."},
    ]


def test_openai_refusal_becomes_text_with_the_refusal_stop_reason() -> None:
    body = openai_reply({"content": None, "refusal": "I can't help with that."})

    translated = to_anthropic(body)

    assert translated["content"] == [{"type": "text", "text": "I can't help with that."}]
    assert (translated["stop_reason"], translated["stop_sequence"]) == ("refusal", None)


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ('{"path": "a.py", "content": "def f(', {"path": "a.py", "content": "def f("}),
        ('{"path": "a.py", "content": "say \\"hi', {"path": "a.py", "content": 'say "hi'}),
        ('{"cities": ["Paris", "Ro', {"cities": ["Paris", "Ro"]}),
        ('{"city": "Paris", "days": 1', {"city": "Paris", "days": 1}),
        ('{"city": "Paris", "da', {"city": "Paris"}),
        ('{"city": "Paris", "days": tr', {"city": "Paris"}),
        ('{"a": {"b": ', {"a": {}}),
        ('{"city": "Par\\', {"city": "Par"}),
        ("", {}),
        ("{", {}),
    ],
)
def test_openai_tool_arguments_cut_by_the_token_limit_are_kept_as_far_as_they_go(
    arguments: str, expected: dict[str, Any]
) -> None:
    call = {"id": "c1", "type": "function", "function": {"name": "write", "arguments": arguments}}
    body = openai_reply({"content": None, "tool_calls": [call]}, "length")

    translated = to_anthropic(body)

    assert translated["content"] == [
        {"type": "tool_use", "id": "c1", "name": "write", "input": expected}
    ]
    assert translated["stop_reason"] == "max_tokens"


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
        "usage": {
            "input_tokens": 12,
            "output_tokens": 5,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        },
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

    assert to_anthropic(body)["usage"] == {
        "input_tokens": 0,
        "output_tokens": 0,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
    }


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
    body["usage"]["cache_read_input_tokens"] = 7
    body["model"] = "gpt-test"

    assert to_anthropic(to_openai(body)) == body


def test_openai_reply_round_trip() -> None:
    body = openai_reply({"content": "Checking.", "tool_calls": TOOL_CALLS}, "tool_calls")
    body["usage"] = openai_usage(12, 5, cached=7)

    assert to_openai(to_anthropic(body)) == body
