"""The official OpenAI and Anthropic SDKs using Kiro models through a real gateway process.

The gateway runs ``llm-gateway serve`` with a ``provider = "kiro"`` route whose base and
refresh URLs point at the fake Kiro server, and whose token file starts with an access
token the fake no longer accepts, so the first request also exercises 403 -> refresh.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import openai
import orjson
import pytest

from tests.fakes.kiro_server import (
    Failure,
    FakeKiro,
    Stream,
    closing_frames,
    exception_frame,
    running_fake_kiro,
    text_frames,
    tool_frames,
)
from tests.processes import RunningServer, running

API_KEY = "sk-kiro-test"
MODEL = "claude-sonnet-4.5"
PNG = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
    )
).decode()
WEATHER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"city": {"type": "string"}},
    "required": ["city"],
}


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeKiro]:
    with running_fake_kiro() as server:
        yield server


@pytest.fixture(scope="module")
def token_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("kiro") / "kiro-auth-token.json"
    path.write_bytes(
        orjson.dumps(
            {
                "accessToken": "stale-access-token",
                "refreshToken": "refresh-0",
                "expiresAt": "2099-01-01T00:00:00.000Z",
                "region": "us-east-1",
            }
        )
    )
    return path


@pytest.fixture(scope="module")
def gateway(
    fake: FakeKiro, token_file: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    config = tmp_path_factory.mktemp("gateway") / "gateway.toml"
    config.write_text(
        f"""
api_keys = ["{API_KEY}"]

[[models]]
name = "claude-*"
provider = "kiro"
base_url = "{fake.base_url}"
refresh_url = "{fake.base_url}/refreshToken"
usage_url = "{fake.base_url}/getUsageLimits"
credentials = "{token_file}"
"""
    )
    with running(["serve", "--config", str(config), "--port", "0"]) as server:
        yield server


@pytest.fixture(autouse=True)
def fresh_script(fake: FakeKiro) -> None:
    fake.script.clear()
    fake.chats.clear()


@pytest.fixture
def anthropic_client(gateway: RunningServer) -> Iterator[anthropic.Anthropic]:
    client = anthropic.Anthropic(base_url=gateway.base_url, api_key=API_KEY, max_retries=0)
    yield client
    client.close()


@pytest.fixture
def openai_client(gateway: RunningServer) -> Iterator[openai.OpenAI]:
    client = openai.OpenAI(base_url=gateway.base_url + "/v1", api_key=API_KEY, max_retries=0)
    yield client
    client.close()


def weather_answer() -> Stream:
    return Stream(
        text_frames("Let me look.")
        + tool_frames("get_weather", "tooluse_abc", ['{"ci', 'ty": "Par', 'is"}'])
        + closing_frames(credits=0.4)
    )


def last_user_input(fake: FakeKiro) -> dict[str, Any]:
    message: dict[str, Any] = fake.chats[-1].body["conversationState"]["currentMessage"][
        "userInputMessage"
    ]
    return message


def test_the_first_request_refreshes_the_token_and_writes_it_back(
    fake: FakeKiro, token_file: Path, anthropic_client: anthropic.Anthropic, gateway: RunningServer
) -> None:
    message = anthropic_client.messages.create(
        model=MODEL,
        max_tokens=200,
        system="Be brief.",
        messages=[{"role": "user", "content": "Hello Kiro"}],
    )
    assert message.stop_reason == "end_turn"
    assert message.content[0].type == "text"
    assert message.content[0].text.startswith("echo: Be brief.\n\nHello Kiro")
    assert message.usage.input_tokens > 0 and message.usage.output_tokens > 0
    assert orjson.loads(token_file.read_bytes())["accessToken"] == fake.access_token
    line = gateway.wait_for_output("model=claude-sonnet-4.5 status=200")
    assert "tokens=~" in line and "credits=0.25" in line
    assert "stale-access-token" not in "".join(gateway.output)
    assert fake.access_token not in "".join(gateway.output)


def test_anthropic_streaming_tool_call(
    fake: FakeKiro, anthropic_client: anthropic.Anthropic
) -> None:
    fake.queue(weather_answer())
    with anthropic_client.messages.stream(
        model=MODEL,
        max_tokens=500,
        tools=[{"name": "get_weather", "description": "Weather", "input_schema": WEATHER_SCHEMA}],
        messages=[{"role": "user", "content": "Weather in Paris?"}],
    ) as stream:
        kinds = [event.type for event in stream]
        message = stream.get_final_message()
    assert kinds[0] == "message_start" and kinds[-1] == "message_stop"
    assert "input_json" in kinds
    assert message.stop_reason == "tool_use"
    text, tool = message.content
    assert text.type == "text" and text.text == "Let me look."
    assert tool.type == "tool_use"
    assert (tool.id, tool.name, tool.input) == ("tooluse_abc", "get_weather", {"city": "Paris"})
    spec = last_user_input(fake)["userInputMessageContext"]["tools"][0]["toolSpecification"]
    assert spec == {
        "name": "get_weather",
        "description": "Weather",
        "inputSchema": {"json": WEATHER_SCHEMA},
    }


def test_anthropic_tool_result_and_image(
    fake: FakeKiro, anthropic_client: anthropic.Anthropic
) -> None:
    message = anthropic_client.messages.create(
        model=MODEL,
        max_tokens=200,
        tools=[{"name": "get_weather", "description": "Weather", "input_schema": WEATHER_SCHEMA}],
        messages=[
            {"role": "user", "content": "Weather in Paris?"},
            {
                "role": "assistant",
                "content": [
                    {
                        "type": "tool_use",
                        "id": "tooluse_abc",
                        "name": "get_weather",
                        "input": {"city": "Paris"},
                    }
                ],
            },
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "tooluse_abc", "content": "21C"},
                    {
                        "type": "image",
                        "source": {"type": "base64", "media_type": "image/png", "data": PNG},
                    },
                    {"type": "text", "text": "And this picture?"},
                ],
            },
        ],
    )
    assert message.content[0].type == "text"
    assert message.content[0].text == "echo: And this picture? [1 image(s)]"
    state = fake.chats[-1].body["conversationState"]
    assert state["history"][1]["assistantResponseMessage"]["toolUses"] == [
        {"name": "get_weather", "input": {"city": "Paris"}, "toolUseId": "tooluse_abc"}
    ]
    current = last_user_input(fake)
    assert current["images"] == [{"format": "png", "source": {"bytes": PNG}}]
    assert current["userInputMessageContext"]["toolResults"] == [
        {"content": [{"text": "21C"}], "status": "success", "toolUseId": "tooluse_abc"}
    ]


def test_anthropic_max_tokens(fake: FakeKiro, anthropic_client: anthropic.Anthropic) -> None:
    fake.queue(Stream(text_frames("a" * 40, "b" * 40) + closing_frames()))
    message = anthropic_client.messages.create(
        model=MODEL, max_tokens=5, messages=[{"role": "user", "content": "Talk a lot"}]
    )
    assert message.stop_reason == "max_tokens"
    assert message.content[0].type == "text" and message.content[0].text == "a" * 20


def test_openai_completion(fake: FakeKiro, openai_client: openai.OpenAI) -> None:
    completion = openai_client.chat.completions.create(
        model=MODEL,
        messages=[
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "Hi from OpenAI"},
        ],
    )
    choice = completion.choices[0]
    assert choice.finish_reason == "stop"
    assert choice.message.content == "echo: You are terse.\n\nHi from OpenAI"
    assert completion.usage is not None and completion.usage.prompt_tokens > 0


def test_openai_streaming_tool_call(fake: FakeKiro, openai_client: openai.OpenAI) -> None:
    fake.queue(weather_answer())
    stream = openai_client.chat.completions.create(
        model=MODEL,
        stream=True,
        tools=[
            {
                "type": "function",
                "function": {"name": "get_weather", "parameters": WEATHER_SCHEMA},
            }
        ],
        messages=[{"role": "user", "content": "Weather in Paris?"}],
    )
    text = ""
    arguments = ""
    names: list[str] = []
    finish: list[str] = []
    for chunk in stream:
        for choice in chunk.choices:
            text += choice.delta.content or ""
            for call in choice.delta.tool_calls or ():
                if call.function and call.function.name:
                    names.append(call.function.name)
                arguments += (call.function.arguments or "") if call.function else ""
            if choice.finish_reason:
                finish.append(choice.finish_reason)
    assert text == "Let me look."
    assert names == ["get_weather"]
    assert json.loads(arguments) == {"city": "Paris"}
    assert finish == ["tool_calls"]


def test_openai_image_and_length(fake: FakeKiro, openai_client: openai.OpenAI) -> None:
    fake.queue(Stream(text_frames("x" * 100) + closing_frames()))
    completion = openai_client.chat.completions.create(
        model=MODEL,
        max_tokens=10,
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is this?"},
                    {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
                ],
            }
        ],
    )
    assert completion.choices[0].finish_reason == "length"
    assert completion.choices[0].message.content == "x" * 40
    assert last_user_input(fake)["images"] == [{"format": "png", "source": {"bytes": PNG}}]


@pytest.mark.parametrize(
    ("failure", "status"),
    [
        (Failure(402, "Monthly request limit reached", "MONTHLY_REQUEST_COUNT"), 402),
        (Failure(400, "Input is too long", "CONTENT_LENGTH_EXCEEDS_THRESHOLD"), 400),
        (Failure(400, "Invalid model", "INVALID_MODEL_ID"), 400),
    ],
)
def test_kiro_errors_reach_both_clients(
    fake: FakeKiro,
    anthropic_client: anthropic.Anthropic,
    openai_client: openai.OpenAI,
    failure: Failure,
    status: int,
) -> None:
    fake.queue(failure, failure)
    with pytest.raises(anthropic.APIStatusError) as from_anthropic:
        anthropic_client.messages.create(
            model=MODEL, max_tokens=10, messages=[{"role": "user", "content": "hi"}]
        )
    assert from_anthropic.value.status_code == status
    assert failure.message in from_anthropic.value.message
    with pytest.raises(openai.APIStatusError) as from_openai:
        openai_client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "hi"}]
        )
    assert from_openai.value.status_code == status


def test_an_exception_mid_stream_ends_the_stream_with_an_error(
    fake: FakeKiro, anthropic_client: anthropic.Anthropic
) -> None:
    fake.queue(
        Stream([*text_frames("partial"), exception_frame("InternalServerException", "boom")])
    )
    with (
        pytest.raises(anthropic.APIError, match="boom"),
        anthropic_client.messages.stream(
            model=MODEL, max_tokens=100, messages=[{"role": "user", "content": "hi"}]
        ) as stream,
    ):
        for _ in stream:
            pass
