"""Anthropic Messages request -> Kiro conversationState."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from llm_gateway.errors import GatewayError
from llm_gateway.providers.kiro.payload import (
    EMPTY_TEXT,
    MAX_PAYLOAD_BYTES,
    MAX_TOOL_NAME,
    ToolNames,
    build_payload,
)

MODEL = "claude-sonnet-4.5"
PNG = {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}
WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Weather for a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
}


def build(request: dict[str, Any], names: ToolNames | None = None, **kwargs: Any) -> dict[str, Any]:
    data = build_payload(
        request,
        model_id=MODEL,
        conversation_id="conv-1",
        tool_names=names or ToolNames(),
        **kwargs,
    )
    payload: dict[str, Any] = orjson.loads(data)
    return payload


def user(content: Any) -> dict[str, Any]:
    return {"role": "user", "content": content}


def assistant(content: Any) -> dict[str, Any]:
    return {"role": "assistant", "content": content}


def test_a_single_message_becomes_the_current_message() -> None:
    payload = build({"messages": [user("Hi")]}, profile_arn="arn:x")
    assert payload == {
        "conversationState": {
            "chatTriggerType": "MANUAL",
            "conversationId": "conv-1",
            "currentMessage": {
                "userInputMessage": {"content": "Hi", "modelId": MODEL, "origin": "AI_EDITOR"}
            },
            "history": [],
        },
        "profileArn": "arn:x",
    }


def test_no_profile_arn_means_no_field() -> None:
    assert "profileArn" not in build({"messages": [user("Hi")]})


def test_system_prompt_goes_into_the_first_user_message() -> None:
    payload = build(
        {
            "system": [{"type": "text", "text": "Be brief."}, {"type": "text", "text": "Be kind."}],
            "messages": [user("one"), assistant("two"), user("three")],
        }
    )
    state = payload["conversationState"]
    assert state["history"][0]["userInputMessage"]["content"] == "Be brief.\n\nBe kind.\n\none"
    assert state["currentMessage"]["userInputMessage"]["content"] == "three"


@pytest.mark.parametrize(
    "output_format",
    [
        {"output_config": {"format": {"type": "json_schema", "schema": {"type": "object"}}}},
        {"output_format": {"type": "json_schema", "schema": {"type": "object"}}},
    ],
)
def test_structured_output_becomes_an_instruction_after_the_system_prompt(
    output_format: dict[str, Any],
) -> None:
    payload = build({"system": "Be brief.", "messages": [user("Hi")], **output_format})

    content = payload["conversationState"]["currentMessage"]["userInputMessage"]["content"]
    assert content == (
        "Be brief.\n\nAnswer with a single JSON object and nothing else: no prose, no code "
        'fences. It must match this JSON schema: {"type":"object"}\n\nHi'
    )


def test_history_alternates_and_same_role_messages_merge() -> None:
    payload = build(
        {
            "messages": [
                user("a"),
                user([{"type": "text", "text": "b"}]),
                assistant("c"),
                assistant("d"),
                user("e"),
            ]
        }
    )
    state = payload["conversationState"]
    assert state["history"] == [
        {"userInputMessage": {"content": "a\n\nb", "modelId": MODEL, "origin": "AI_EDITOR"}},
        {"assistantResponseMessage": {"content": "c\n\nd"}},
    ]
    assert state["currentMessage"]["userInputMessage"]["content"] == "e"


def test_tools_tool_uses_and_tool_results() -> None:
    payload = build(
        {
            "tools": [WEATHER_TOOL],
            "messages": [
                user("Weather in Paris?"),
                assistant(
                    [
                        {
                            "type": "tool_use",
                            "id": "toolu_1",
                            "name": "get_weather",
                            "input": {"city": "Paris"},
                        }
                    ]
                ),
                user(
                    [
                        {"type": "tool_result", "tool_use_id": "toolu_1", "content": "21C"},
                    ]
                ),
            ],
        }
    )
    state = payload["conversationState"]
    assert state["history"][1] == {
        "assistantResponseMessage": {
            "content": EMPTY_TEXT,
            "toolUses": [
                {"name": "get_weather", "input": {"city": "Paris"}, "toolUseId": "toolu_1"}
            ],
        }
    }
    current = state["currentMessage"]["userInputMessage"]
    assert current["content"] == EMPTY_TEXT
    assert current["userInputMessageContext"] == {
        "toolResults": [
            {"content": [{"text": "21C"}], "status": "success", "toolUseId": "toolu_1"}
        ],
        "tools": [
            {
                "toolSpecification": {
                    "name": "get_weather",
                    "description": "Weather for a city",
                    "inputSchema": {"json": WEATHER_TOOL["input_schema"]},
                }
            }
        ],
    }


def test_error_results_and_block_content() -> None:
    payload = build(
        {
            "messages": [
                user("go"),
                assistant([{"type": "tool_use", "id": "t1", "name": "run", "input": {}}]),
                user(
                    [
                        {
                            "type": "tool_result",
                            "tool_use_id": "t1",
                            "is_error": True,
                            "content": [
                                {"type": "text", "text": "boom"},
                                {"type": "image", "source": PNG},
                            ],
                        },
                        {"type": "text", "text": "fix it"},
                    ]
                ),
            ],
        }
    )
    current = payload["conversationState"]["currentMessage"]["userInputMessage"]
    assert current["content"] == "fix it"
    assert current["images"] == [{"format": "png", "source": {"bytes": PNG["data"]}}]
    assert current["userInputMessageContext"]["toolResults"] == [
        {"content": [{"text": "boom"}], "status": "error", "toolUseId": "t1"}
    ]


def test_an_orphaned_tool_result_is_sent_as_text() -> None:
    payload = build(
        {
            "messages": [
                user("go"),
                assistant("ok"),
                user([{"type": "tool_result", "tool_use_id": "gone", "content": ""}]),
            ],
        }
    )
    current = payload["conversationState"]["currentMessage"]["userInputMessage"]
    assert current["content"] == "[Result of tool call gone]\n(no output)"
    assert "userInputMessageContext" not in current


def test_images_in_user_messages() -> None:
    jpeg = {**PNG, "media_type": "image/jpeg"}
    payload = build(
        {
            "messages": [
                user([{"type": "image", "source": jpeg}]),
                assistant("a cat"),
                user([{"type": "text", "text": "and this?"}, {"type": "image", "source": PNG}]),
            ]
        }
    )
    state = payload["conversationState"]
    first = state["history"][0]["userInputMessage"]
    assert first["content"] == EMPTY_TEXT
    assert first["images"] == [{"format": "jpeg", "source": {"bytes": PNG["data"]}}]
    assert state["currentMessage"]["userInputMessage"]["images"][0]["format"] == "png"


def test_thinking_blocks_are_dropped() -> None:
    payload = build(
        {
            "messages": [
                user("q"),
                assistant(
                    [
                        {"type": "thinking", "thinking": "hmm", "signature": "s"},
                        {"type": "text", "text": "a"},
                    ]
                ),
                user("q2"),
            ]
        }
    )
    assert payload["conversationState"]["history"][1] == {
        "assistantResponseMessage": {"content": "a"}
    }


def test_long_tool_names_are_shortened_and_mapped_back() -> None:
    long_name = "mcp__some_server__" + "x" * 80
    names = ToolNames()
    payload = build(
        {
            "tools": [{**WEATHER_TOOL, "name": long_name, "description": ""}],
            "messages": [
                user("go"),
                assistant([{"type": "tool_use", "id": "t1", "name": long_name, "input": {}}]),
                user([{"type": "tool_result", "tool_use_id": "t1", "content": "ok"}]),
            ],
        },
        names,
    )
    state = payload["conversationState"]
    spec = state["currentMessage"]["userInputMessage"]["userInputMessageContext"]["tools"][0]
    short = spec["toolSpecification"]["name"]
    assert len(short) == MAX_TOOL_NAME
    assert spec["toolSpecification"]["description"] == long_name
    assert state["history"][1]["assistantResponseMessage"]["toolUses"][0]["name"] == short
    assert names.from_kiro(short) == long_name
    assert names.from_kiro("get_weather") == "get_weather"
    other = ToolNames().to_kiro(long_name[:-1] + "y")
    assert other != short and len(other) == MAX_TOOL_NAME


@pytest.mark.parametrize(
    ("request_body", "message"),
    [
        ({"messages": []}, "start with a user message"),
        ({"messages": [assistant("hi")]}, "start with a user message"),
        ({"messages": [user("a"), assistant("prefill")]}, "prefilled assistant"),
        (
            {"messages": [user([{"type": "image", "source": {"type": "url", "url": "http://x"}}])]},
            "only as base64",
        ),
        (
            {"messages": [user([{"type": "image", "source": {**PNG, "media_type": "image/bmp"}}])]},
            "image/bmp",
        ),
        ({"messages": [user([{"type": "document", "source": {}}])]}, "'document'"),
        ({"messages": [user("a")], "tools": [{"type": "web_search_20250305"}]}, "server tools"),
        ({"messages": [user([{"type": "text"}])]}, "malformed request"),
        ({"messages": [{"role": "system", "content": "x"}]}, "unknown message role"),
        ({"messages": "hi"}, "must be a list"),
    ],
)
def test_requests_kiro_cannot_express_are_validation_errors(
    request_body: dict[str, Any], message: str
) -> None:
    with pytest.raises(GatewayError, match=message) as caught:
        build(request_body)
    assert (caught.value.error_type, caught.value.status) == ("validation", 400)


def test_an_oversized_payload_is_rejected_before_sending() -> None:
    with pytest.raises(GatewayError, match="context too long") as caught:
        build({"messages": [user("x" * MAX_PAYLOAD_BYTES)]})
    assert caught.value.error_type == "validation"
