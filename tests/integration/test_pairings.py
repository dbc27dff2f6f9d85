"""Both official SDKs against every kind of upstream: pass-through and translated, streaming
and not, with system prompts, parameters, tools, images and stop reasons."""

from __future__ import annotations

import base64
import json
from typing import Any

import anthropic
import openai
import pytest

# Client model names by upstream; see conftest for the routes.
UPSTREAMS = {"openai": "oa-m", "anthropic": "an-m", "in-process": "local-m"}

WEATHER_TOOL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "city": {"type": "string"},
        "days": {"type": "integer"},
        "unit": {"type": "string", "enum": ["c", "f"]},
    },
    "required": ["city", "days", "unit"],
}
OPENAI_TOOLS: list[Any] = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Forecast for a city",
            "parameters": WEATHER_TOOL_SCHEMA,
        },
    }
]
ANTHROPIC_TOOLS: list[Any] = [
    {
        "name": "get_weather",
        "description": "Forecast for a city",
        "input_schema": WEATHER_TOOL_SCHEMA,
    }
]
# A 1x1 PNG.
PNG = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
    )
).decode()


def assert_weather_arguments(arguments: dict[str, Any]) -> None:
    assert isinstance(arguments["city"], str)
    assert isinstance(arguments["days"], int)
    assert arguments["unit"] in ("c", "f")


@pytest.mark.parametrize("upstream", UPSTREAMS)
def test_openai_client_completion(openai_client: openai.OpenAI, upstream: str) -> None:
    response = openai_client.chat.completions.create(
        model=UPSTREAMS[upstream] + "+tokens=7",
        messages=[
            {"role": "system", "content": "Answer briefly."},
            {"role": "user", "content": "Say hello."},
        ],
        temperature=0.2,
        top_p=0.9,
        max_tokens=100,
        stop=["never-seen"],
    )
    choice = response.choices[0]
    assert choice.message.role == "assistant"
    assert choice.message.content
    assert choice.finish_reason == "stop"
    assert response.usage is not None
    assert response.usage.completion_tokens == 7
    assert response.usage.prompt_tokens > 0


@pytest.mark.parametrize("upstream", UPSTREAMS)
@pytest.mark.parametrize("include_usage", [False, True])
def test_openai_client_stream(
    openai_client: openai.OpenAI, upstream: str, include_usage: bool
) -> None:
    chunks = list(
        openai_client.chat.completions.create(
            model=UPSTREAMS[upstream] + "+tokens=9",
            messages=[{"role": "user", "content": "Count."}],
            stream=True,
            stream_options={"include_usage": True} if include_usage else None,
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text
    finishing = [
        c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason
    ]
    assert finishing == ["stop"]
    usage_chunks = [c for c in chunks if c.usage is not None]
    if include_usage:
        assert len(usage_chunks) == 1
        assert usage_chunks[0].choices == []
        assert usage_chunks[0].usage is not None
        assert usage_chunks[0].usage.completion_tokens == 9
    else:
        assert usage_chunks == []


@pytest.mark.parametrize("upstream", UPSTREAMS)
def test_openai_client_length_stop(openai_client: openai.OpenAI, upstream: str) -> None:
    response = openai_client.chat.completions.create(
        model=UPSTREAMS[upstream] + "+tokens=50",
        messages=[{"role": "user", "content": "Go on and on."}],
        max_tokens=5,
    )
    assert response.choices[0].finish_reason == "length"
    assert response.usage is not None
    assert response.usage.completion_tokens == 5


@pytest.mark.parametrize("upstream", UPSTREAMS)
def test_openai_client_tool_round_trip(openai_client: openai.OpenAI, upstream: str) -> None:
    question: Any = {"role": "user", "content": "Weather in Oslo?"}
    first = openai_client.chat.completions.create(
        model=UPSTREAMS[upstream] + "+tool", messages=[question], tools=OPENAI_TOOLS
    )
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.tool_calls
    call = choice.message.tool_calls[0]
    assert call.type == "function"
    assert call.function.name == "get_weather"
    assert_weather_arguments(json.loads(call.function.arguments))

    conversation: list[Any] = [
        question,
        choice.message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "Sunny, 21 C"},
    ]
    answer = openai_client.chat.completions.create(
        model=UPSTREAMS[upstream], tools=OPENAI_TOOLS, messages=conversation
    )
    assert answer.choices[0].finish_reason == "stop"
    assert answer.choices[0].message.content


@pytest.mark.parametrize("upstream", UPSTREAMS)
def test_openai_client_streamed_tool_call(openai_client: openai.OpenAI, upstream: str) -> None:
    stream = openai_client.chat.completions.create(
        model=UPSTREAMS[upstream] + "+tool",
        messages=[{"role": "user", "content": "Weather in Oslo?"}],
        tools=OPENAI_TOOLS,
        stream=True,
    )
    names: list[str] = []
    arguments = ""
    finish = None
    for chunk in stream:
        if not chunk.choices:
            continue
        for delta in chunk.choices[0].delta.tool_calls or []:
            assert delta.index == 0
            if delta.function and delta.function.name:
                names.append(delta.function.name)
            if delta.function and delta.function.arguments:
                arguments += delta.function.arguments
        finish = chunk.choices[0].finish_reason or finish
    assert names == ["get_weather"]
    assert_weather_arguments(json.loads(arguments))
    assert finish == "tool_calls"


@pytest.mark.parametrize("upstream", UPSTREAMS)
def test_openai_client_images(openai_client: openai.OpenAI, upstream: str) -> None:
    response = openai_client.chat.completions.create(
        model=UPSTREAMS[upstream],
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is in these images?"},
                    {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
                    {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
                ],
            }
        ],
    )
    assert response.choices[0].message.content


@pytest.mark.parametrize("upstream", UPSTREAMS)
def test_anthropic_client_message(anthropic_client: anthropic.Anthropic, upstream: str) -> None:
    message = anthropic_client.messages.create(
        model=UPSTREAMS[upstream] + "+tokens=7",
        max_tokens=100,
        system="Answer briefly.",
        messages=[{"role": "user", "content": "Say hello."}],
        stop_sequences=["never-seen"],
        # This SDK version no longer names these parameters; the API still takes them.
        extra_body={"temperature": 0.2, "top_p": 0.9},
    )
    assert message.role == "assistant"
    assert message.content[0].type == "text"
    assert message.content[0].text
    assert message.stop_reason == "end_turn"
    assert message.usage.output_tokens == 7
    assert message.usage.input_tokens > 0


@pytest.mark.parametrize("upstream", UPSTREAMS)
def test_anthropic_client_stream(anthropic_client: anthropic.Anthropic, upstream: str) -> None:
    with anthropic_client.messages.stream(
        model=UPSTREAMS[upstream] + "+tokens=9",
        max_tokens=100,
        messages=[{"role": "user", "content": "Count."}],
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text
    assert final.stop_reason == "end_turn"
    assert final.usage.output_tokens == 9
    assert final.usage.input_tokens > 0


@pytest.mark.parametrize("upstream", UPSTREAMS)
def test_anthropic_client_max_tokens_stop(
    anthropic_client: anthropic.Anthropic, upstream: str
) -> None:
    message = anthropic_client.messages.create(
        model=UPSTREAMS[upstream] + "+tokens=50",
        max_tokens=5,
        messages=[{"role": "user", "content": "Go on and on."}],
    )
    assert message.stop_reason == "max_tokens"
    assert message.usage.output_tokens == 5


@pytest.mark.parametrize("upstream", UPSTREAMS)
@pytest.mark.parametrize("stream", [False, True])
def test_anthropic_client_tool_round_trip(
    anthropic_client: anthropic.Anthropic, upstream: str, stream: bool
) -> None:
    question: Any = {"role": "user", "content": "Weather in Oslo?"}
    first: anthropic.types.Message
    if stream:
        with anthropic_client.messages.stream(
            model=UPSTREAMS[upstream] + "+tool",
            max_tokens=200,
            messages=[question],
            tools=ANTHROPIC_TOOLS,
        ) as events:
            first = events.get_final_message()
    else:
        first = anthropic_client.messages.create(
            model=UPSTREAMS[upstream] + "+tool",
            max_tokens=200,
            messages=[question],
            tools=ANTHROPIC_TOOLS,
        )
    assert first.stop_reason == "tool_use"
    uses = [block for block in first.content if block.type == "tool_use"]
    assert len(uses) == 1
    assert uses[0].name == "get_weather"
    assert isinstance(uses[0].input, dict)
    assert_weather_arguments(uses[0].input)

    conversation: list[Any] = [
        question,
        {"role": "assistant", "content": [block.model_dump() for block in first.content]},
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": uses[0].id, "content": "Sunny, 21 C"}
            ],
        },
    ]
    answer = anthropic_client.messages.create(
        model=UPSTREAMS[upstream], max_tokens=200, tools=ANTHROPIC_TOOLS, messages=conversation
    )
    assert answer.stop_reason == "end_turn"


@pytest.mark.parametrize("upstream", UPSTREAMS)
def test_anthropic_client_image(anthropic_client: anthropic.Anthropic, upstream: str) -> None:
    message = anthropic_client.messages.create(
        model=UPSTREAMS[upstream],
        max_tokens=100,
        messages=[
            {
                "role": "user",
                "content": [
                    {
                        "type": "image",
                        "source": {"type": "base64", "media_type": "image/png", "data": PNG},
                    },
                    {"type": "text", "text": "What is this?"},
                ],
            }
        ],
    )
    assert message.content[0].type == "text"


def test_count_tokens(anthropic_client: anthropic.Anthropic) -> None:
    short = anthropic_client.messages.count_tokens(
        model="local-m", messages=[{"role": "user", "content": "Hi"}]
    )
    long = anthropic_client.messages.count_tokens(
        model="local-m", messages=[{"role": "user", "content": "Hi " * 400}]
    )
    assert 0 < short.input_tokens < long.input_tokens


def test_models_in_both_shapes(
    openai_client: openai.OpenAI, anthropic_client: anthropic.Anthropic
) -> None:
    openai_ids = [model.id for model in openai_client.models.list()]
    anthropic_ids = [model.id for model in anthropic_client.models.list()]
    assert openai_ids == anthropic_ids == ["oa-*", "an-*", "slow-*", "dead-*", "local-*"]
