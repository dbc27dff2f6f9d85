"""Request translation, OpenAI Chat Completions <-> Anthropic Messages, field by field."""

from __future__ import annotations

from typing import Any

import pytest

from llm_gateway.errors import GatewayError
from llm_gateway.translate import anthropic_request_to_openai, openai_request_to_anthropic

PNG = "iVBORw0KGgo="
WEATHER_SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}},
    "required": ["city"],
}


def openai_body(messages: list[dict[str, Any]], **params: Any) -> dict[str, Any]:
    return {"model": "upstream-model", "messages": messages, **params}


def anthropic_body(messages: list[dict[str, Any]], **params: Any) -> dict[str, Any]:
    return {"model": "upstream-model", "max_tokens": 1024, "messages": messages, **params}


def weather_call(call_id: str, city: str) -> dict[str, Any]:
    return {
        "id": call_id,
        "type": "function",
        "function": {"name": "get_weather", "arguments": f'{{"city":"{city}"}}'},
    }


def weather_use(call_id: str, city: str) -> dict[str, Any]:
    return {"type": "tool_use", "id": call_id, "name": "get_weather", "input": {"city": city}}


# OpenAI -> Anthropic


def test_openai_minimal_request_gets_default_max_tokens() -> None:
    body = openai_body([{"role": "user", "content": "Hi"}])

    assert openai_request_to_anthropic(body) == {
        "model": "upstream-model",
        "max_tokens": 64_000,
        "messages": [{"role": "user", "content": "Hi"}],
    }


def test_openai_system_and_developer_messages_become_top_level_system_blocks() -> None:
    body = openai_body(
        [
            {"role": "system", "content": "Be brief."},
            {"role": "developer", "content": [{"type": "text", "text": "Answer in French."}]},
            {"role": "user", "content": "Hi"},
        ]
    )

    translated = openai_request_to_anthropic(body)

    assert translated["system"] == [
        {"type": "text", "text": "Be brief."},
        {"type": "text", "text": "Answer in French."},
    ]
    assert translated["messages"] == [{"role": "user", "content": "Hi"}]


def test_openai_single_system_message_becomes_a_system_string() -> None:
    body = openai_body(
        [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    )

    assert openai_request_to_anthropic(body)["system"] == "Be brief."


def test_openai_adjacent_same_role_messages_are_merged() -> None:
    body = openai_body(
        [
            {"role": "user", "content": "First."},
            {"role": "user", "content": [{"type": "text", "text": "Second."}]},
            {"role": "assistant", "content": "Reply."},
            {"role": "assistant", "content": ""},
            {"role": "user", "content": "Third."},
        ]
    )

    assert openai_request_to_anthropic(body)["messages"] == [
        {
            "role": "user",
            "content": [{"type": "text", "text": "First."}, {"type": "text", "text": "Second."}],
        },
        {"role": "assistant", "content": "Reply."},
        {"role": "user", "content": "Third."},
    ]


def test_openai_image_parts_become_base64_and_url_image_blocks() -> None:
    content = [
        {"type": "text", "text": "Compare these."},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
        {"type": "image_url", "image_url": {"url": "https://example.com/a.jpg", "detail": "low"}},
    ]

    translated = openai_request_to_anthropic(openai_body([{"role": "user", "content": content}]))

    assert translated["messages"][0]["content"] == [
        {"type": "text", "text": "Compare these."},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
        {"type": "image", "source": {"type": "url", "url": "https://example.com/a.jpg"}},
    ]


def test_openai_image_data_url_that_is_not_base64_is_rejected() -> None:
    content = [{"type": "image_url", "image_url": {"url": "data:image/svg+xml,<svg/>"}}]

    with pytest.raises(GatewayError) as caught:
        openai_request_to_anthropic(openai_body([{"role": "user", "content": content}]))

    assert (caught.value.error_type, caught.value.status) == ("validation", 400)
    assert "base64" in caught.value.message


def test_openai_unsupported_content_part_is_rejected() -> None:
    content = [{"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}}]

    with pytest.raises(GatewayError, match="input_audio") as caught:
        openai_request_to_anthropic(openai_body([{"role": "user", "content": content}]))

    assert caught.value.error_type == "validation"


def test_openai_tool_definitions_become_anthropic_tools() -> None:
    tools = [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Current weather in a city",
                "parameters": WEATHER_SCHEMA,
            },
        },
        {"type": "function", "function": {"name": "now"}},
    ]

    translated = openai_request_to_anthropic(openai_body([], tools=tools))

    assert translated["tools"] == [
        {
            "name": "get_weather",
            "description": "Current weather in a city",
            "input_schema": WEATHER_SCHEMA,
        },
        {"name": "now", "input_schema": {"type": "object", "properties": {}}},
    ]
    assert "tool_choice" not in translated


@pytest.mark.parametrize(
    ("tool_choice", "parallel_tool_calls", "expected"),
    [
        ("auto", None, {"type": "auto"}),
        ("none", None, {"type": "none"}),
        ("required", None, {"type": "any"}),
        (
            {"type": "function", "function": {"name": "get_weather"}},
            None,
            {"type": "tool", "name": "get_weather"},
        ),
        ("required", False, {"type": "any", "disable_parallel_tool_use": True}),
        (None, False, {"type": "auto", "disable_parallel_tool_use": True}),
        ("none", False, {"type": "none"}),
        (None, True, None),
    ],
)
def test_openai_tool_choice(
    tool_choice: Any, parallel_tool_calls: bool | None, expected: dict[str, Any] | None
) -> None:
    tools = [{"type": "function", "function": {"name": "get_weather"}}]
    params: dict[str, Any] = {"tools": tools}
    if tool_choice is not None:
        params["tool_choice"] = tool_choice
    if parallel_tool_calls is not None:
        params["parallel_tool_calls"] = parallel_tool_calls

    translated = openai_request_to_anthropic(openai_body([], **params))

    assert translated.get("tool_choice") == expected


def test_openai_tool_calls_and_results_become_tool_use_and_tool_result_blocks() -> None:
    body = openai_body(
        [
            {"role": "user", "content": "Weather in Paris and Rome?"},
            {
                "role": "assistant",
                "content": "Checking both.",
                "tool_calls": [weather_call("call_1", "Paris"), weather_call("call_2", "Rome")],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "18C"},
            {
                "role": "tool",
                "tool_call_id": "call_2",
                "content": [{"type": "text", "text": "24C"}],
            },
            {"role": "user", "content": "And tomorrow?"},
        ]
    )

    assert openai_request_to_anthropic(body)["messages"] == [
        {"role": "user", "content": "Weather in Paris and Rome?"},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Checking both."},
                weather_use("call_1", "Paris"),
                weather_use("call_2", "Rome"),
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "call_1", "content": "18C"},
                {
                    "type": "tool_result",
                    "tool_use_id": "call_2",
                    "content": [{"type": "text", "text": "24C"}],
                },
                {"type": "text", "text": "And tomorrow?"},
            ],
        },
    ]


def test_openai_assistant_tool_call_without_content_or_arguments() -> None:
    call = {"id": "call_1", "type": "function", "function": {"name": "now", "arguments": ""}}
    body = openai_body([{"role": "assistant", "content": None, "tool_calls": [call]}])

    assert openai_request_to_anthropic(body)["messages"] == [
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "call_1", "name": "now", "input": {}}],
        }
    ]


def test_openai_parameters() -> None:
    body = openai_body(
        [{"role": "user", "content": "Hi"}],
        max_tokens=100,
        max_completion_tokens=200,
        temperature=0.5,
        top_p=0.9,
        stop="END",
        stream=True,
        stream_options={"include_usage": True},
        user="user-42",
        presence_penalty=0.3,
        seed=7,
    )

    assert openai_request_to_anthropic(body) == {
        "model": "upstream-model",
        "max_tokens": 200,
        "messages": [{"role": "user", "content": "Hi"}],
        "temperature": 0.5,
        "top_p": 0.9,
        "stop_sequences": ["END"],
        "stream": True,
        "metadata": {"user_id": "user-42"},
    }


def test_openai_legacy_max_tokens_stop_list_and_temperature_as_given() -> None:
    body = openai_body([], max_tokens=100, stop=["a", "b"], temperature=1.7, stream=False)

    translated = openai_request_to_anthropic(body)

    assert translated["max_tokens"] == 100
    assert translated["stop_sequences"] == ["a", "b"]
    # Out of Anthropic's range: the upstream's 400 to give, not ours to clamp.
    assert translated["temperature"] == 1.7
    assert translated["stream"] is False


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (openai_body([], n=2), "n other than 1"),
        (openai_body([{"role": "function", "content": "x"}]), "answers no assistant function_call"),
        (openai_body([{"role": "critic", "content": "x"}]), "role 'critic'"),
        ({"model": "m"}, "messages must be a list"),
        (openai_body([{"role": "tool", "content": "18C"}]), "missing field 'tool_call_id'"),
        (
            openai_body(
                [
                    {
                        "role": "assistant",
                        "tool_calls": [
                            {"id": "c", "function": {"name": "f", "arguments": "{broken"}}
                        ],
                    }
                ]
            ),
            "not valid JSON",
        ),
        (openai_body([], tools=[{"type": "custom", "custom": {"name": "x"}}]), "custom"),
        (
            openai_body([], tools=[{"type": "function", "function": {"name": "f"}}], tool_choice=3),
            "tool_choice",
        ),
    ],
)
def test_openai_request_that_cannot_be_translated_is_a_validation_error(
    body: dict[str, Any], needle: str
) -> None:
    with pytest.raises(GatewayError) as caught:
        openai_request_to_anthropic(body)

    assert (caught.value.error_type, caught.value.status) == ("validation", 400)
    assert needle in caught.value.message


# Anthropic -> OpenAI


def test_anthropic_system_string_and_blocks_become_system_messages() -> None:
    user = {"role": "user", "content": "Hi"}

    assert anthropic_request_to_openai(anthropic_body([user], system="Be brief."))["messages"] == [
        {"role": "system", "content": "Be brief."},
        user,
    ]
    blocks = [
        {"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}},
        {"type": "text", "text": "Answer in French."},
    ]
    assert anthropic_request_to_openai(anthropic_body([user], system=blocks))["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "system", "content": "Answer in French."},
        user,
    ]


def test_anthropic_images_become_image_url_parts() -> None:
    content = [
        {"type": "text", "text": "Compare these."},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
        {"type": "image", "source": {"type": "url", "url": "https://example.com/a.jpg"}},
    ]

    translated = anthropic_request_to_openai(anthropic_body([{"role": "user", "content": content}]))

    assert translated["messages"] == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Compare these."},
                {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
                {"type": "image_url", "image_url": {"url": "https://example.com/a.jpg"}},
            ],
        }
    ]


def test_anthropic_tool_use_and_results_become_tool_calls_and_tool_messages() -> None:
    body = anthropic_body(
        [
            {"role": "user", "content": "Weather in Paris and Rome?"},
            {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": "Two cities.", "signature": "c2ln"},
                    {"type": "text", "text": "Checking both."},
                    weather_use("toolu_1", "Paris"),
                    weather_use("toolu_2", "Rome"),
                ],
            },
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_1", "content": "18C"},
                    {
                        "type": "tool_result",
                        "tool_use_id": "toolu_2",
                        "content": [{"type": "text", "text": "24C"}],
                        "is_error": False,
                    },
                    {"type": "text", "text": "And tomorrow?"},
                ],
            },
        ]
    )

    assert anthropic_request_to_openai(body)["messages"] == [
        {"role": "user", "content": "Weather in Paris and Rome?"},
        {
            "role": "assistant",
            "content": "Checking both.",
            "tool_calls": [weather_call("toolu_1", "Paris"), weather_call("toolu_2", "Rome")],
        },
        {"role": "tool", "tool_call_id": "toolu_1", "content": "18C"},
        {"role": "tool", "tool_call_id": "toolu_2", "content": [{"type": "text", "text": "24C"}]},
        {"role": "user", "content": [{"type": "text", "text": "And tomorrow?"}]},
    ]


def test_anthropic_assistant_with_only_tool_use_has_null_content() -> None:
    body = anthropic_body([{"role": "assistant", "content": [weather_use("toolu_1", "Oslo")]}])

    assert anthropic_request_to_openai(body)["messages"] == [
        {"role": "assistant", "content": None, "tool_calls": [weather_call("toolu_1", "Oslo")]}
    ]


def test_anthropic_tools_and_parameters() -> None:
    body = anthropic_body(
        [{"role": "user", "content": "Hi"}],
        temperature=0.2,
        top_p=0.8,
        top_k=40,
        stop_sequences=["END"],
        stream=True,
        metadata={"user_id": "user-42"},
        tools=[
            {"name": "get_weather", "description": "Weather", "input_schema": WEATHER_SCHEMA},
            {"type": "custom", "name": "now", "input_schema": {"type": "object"}},
        ],
        tool_choice={"type": "any", "disable_parallel_tool_use": True},
    )

    assert anthropic_request_to_openai(body) == {
        "model": "upstream-model",
        "messages": [{"role": "user", "content": "Hi"}],
        "max_tokens": 1024,
        "temperature": 0.2,
        "top_p": 0.8,
        "top_k": 40,
        "stop": ["END"],
        "stream": True,
        "stream_options": {"include_usage": True},
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": "get_weather",
                    "description": "Weather",
                    "parameters": WEATHER_SCHEMA,
                },
            },
            {"type": "function", "function": {"name": "now", "parameters": {"type": "object"}}},
        ],
        "tool_choice": "required",
        "parallel_tool_calls": False,
        "user": "user-42",
    }


@pytest.mark.parametrize(
    ("tool_choice", "expected"),
    [
        ({"type": "auto"}, "auto"),
        ({"type": "none"}, "none"),
        ({"type": "any"}, "required"),
        ({"type": "tool", "name": "now"}, {"type": "function", "function": {"name": "now"}}),
    ],
)
def test_anthropic_tool_choice(tool_choice: dict[str, Any], expected: Any) -> None:
    tools = [{"name": "now", "input_schema": {"type": "object"}}]

    translated = anthropic_request_to_openai(
        anthropic_body([], tools=tools, tool_choice=tool_choice)
    )

    assert translated["tool_choice"] == expected
    assert "parallel_tool_calls" not in translated


def test_anthropic_non_streaming_request_asks_for_no_stream_options() -> None:
    translated = anthropic_request_to_openai(anthropic_body([], stream=False))

    assert translated["stream"] is False
    assert "stream_options" not in translated


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (anthropic_body([{"role": "system", "content": "x"}]), "role 'system'"),
        (
            anthropic_body(
                [
                    {
                        "role": "user",
                        "content": [
                            {
                                "type": "document",
                                "source": {"type": "url", "url": "https://example.com/a.pdf"},
                            }
                        ],
                    }
                ]
            ),
            "url document sources",
        ),
        (
            anthropic_body(
                [
                    {
                        "role": "user",
                        "content": [
                            {"type": "image", "source": {"type": "file", "file_id": "file_1"}}
                        ],
                    }
                ]
            ),
            "file image sources",
        ),
        (
            anthropic_body(
                [
                    {
                        "role": "user",
                        "content": [
                            {
                                "type": "tool_result",
                                "tool_use_id": "toolu_1",
                                "content": [
                                    {
                                        "type": "image",
                                        "source": {"type": "url", "url": "https://x/y.png"},
                                    }
                                ],
                            }
                        ],
                    }
                ]
            ),
            "image blocks in tool results",
        ),
        (
            anthropic_body(
                [],
                tools=[{"type": "web_search_20250305", "name": "web_search", "max_uses": 3}],
            ),
            "web_search_20250305",
        ),
        (anthropic_body([{"role": "user"}]), "missing field 'content'"),
    ],
)
def test_anthropic_request_that_cannot_be_translated_is_a_validation_error(
    body: dict[str, Any], needle: str
) -> None:
    with pytest.raises(GatewayError) as caught:
        anthropic_request_to_openai(body)

    assert (caught.value.error_type, caught.value.status) == ("validation", 400)
    assert needle in caught.value.message


# Round trips


def test_openai_request_round_trip() -> None:
    body = openai_body(
        [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "content": None, "tool_calls": [weather_call("c1", "Paris")]},
            {"role": "tool", "tool_call_id": "c1", "content": "18C"},
            {"role": "assistant", "content": "18C in Paris."},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "And this?"},
                    {"type": "image_url", "image_url": {"url": "https://example.com/a.jpg"}},
                ],
            },
        ],
        max_tokens=300,
        temperature=0.3,
        stop=["END"],
        stream=False,
        tools=[
            {
                "type": "function",
                "function": {"name": "get_weather", "parameters": WEATHER_SCHEMA},
            }
        ],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
        user="u1",
    )

    assert anthropic_request_to_openai(openai_request_to_anthropic(body)) == body


def test_anthropic_request_round_trip() -> None:
    body = anthropic_body(
        [
            {"role": "user", "content": "Weather in Paris?"},
            {
                "role": "assistant",
                "content": [{"type": "text", "text": "Checking."}, weather_use("t1", "Paris")],
            },
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "t1", "content": "18C"},
                    {"type": "text", "text": "Thanks."},
                    {
                        "type": "image",
                        "source": {"type": "base64", "media_type": "image/jpeg", "data": PNG},
                    },
                ],
            },
        ],
        system="Be brief.",
        temperature=0.3,
        top_p=0.5,
        stop_sequences=["END"],
        stream=True,
        tools=[{"name": "get_weather", "description": "Weather", "input_schema": WEATHER_SCHEMA}],
        tool_choice={"type": "auto", "disable_parallel_tool_use": True},
        metadata={"user_id": "u1"},
    )

    assert openai_request_to_anthropic(anthropic_request_to_openai(body)) == body
