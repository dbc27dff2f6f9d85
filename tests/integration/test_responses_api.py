"""The OpenAI SDK's Responses API, and a replayed Codex request, through every kind of upstream.

One gateway process serves every kind: the in-process simulator and ``llm-gateway sim`` as an
OpenAI route with ``responses = "pass-through"`` (both answer the Responses API natively),
``llm-gateway sim`` as a translated OpenAI route and as an Anthropic route, and the fake
Kiro server. Simulator answers are steered with directives; Kiro's are scripted.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import orjson
import pytest

from tests.fakes.kiro_server import (
    FakeKiro,
    Stream,
    closing_frames,
    running_fake_kiro,
    tool_frames,
)
from tests.integration.conftest import API_KEY, gateway_config
from tests.processes import RunningServer, running

KINDS = {
    "sim": "local-m",
    "pass-through": "pt-m",
    "openai": "oa-m",
    "anthropic": "an-m",
    "kiro": "kiro-m",
}
TRANSLATED = ("openai", "anthropic", "kiro")
CODEX_REQUEST = json.loads((Path(__file__).parent / "codex_request.json").read_text())
WEATHER: Any = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
    "required": ["city", "days"],
}
TOOLS: Any = [
    {"type": "function", "name": "get_time", "parameters": {"type": "object", "properties": {}}},
    {"type": "function", "name": "get_weather", "description": "Forecast", "parameters": WEATHER},
]


@pytest.fixture(scope="module")
def kiro() -> Iterator[FakeKiro]:
    with running_fake_kiro() as server:
        yield server


@pytest.fixture(scope="module")
def gateway(
    sim_server: RunningServer, kiro: FakeKiro, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    folder = tmp_path_factory.mktemp("responses")
    token_file = folder / "kiro-auth-token.json"
    token_file.write_bytes(
        orjson.dumps(
            {
                "accessToken": kiro.access_token,
                "refreshToken": kiro.refresh_token,
                "expiresAt": "2099-01-01T00:00:00.000Z",
            }
        )
    )
    extra = f"""
[[models]]
name = "pt-*"
provider = "openai"
base_url = "{sim_server.base_url}/v1"
responses = "pass-through"

[[models]]
name = "kiro-*"
provider = "kiro"
base_url = "{kiro.base_url}"
refresh_url = "{kiro.base_url}/refreshToken"
credentials = "{token_file}"
"""
    config = folder / "gateway.toml"
    config.write_text(gateway_config(sim_server.base_url, extra=extra))
    with running(["serve", "--config", str(config), "--port", "0"]) as server:
        yield server


@pytest.fixture
def client(gateway: RunningServer, kiro: FakeKiro) -> Iterator[openai.OpenAI]:
    kiro.script.clear()
    with openai.OpenAI(base_url=gateway.base_url + "/v1", api_key=API_KEY, max_retries=0) as sdk:
        yield sdk


def model(kind: str, directives: str = "") -> str:
    """The model name for ``kind``; Kiro takes no simulator directives."""
    return KINDS[kind] + ("" if kind == "kiro" else directives)


def queue_weather_call(kiro: FakeKiro, kind: str) -> None:
    if kind == "kiro":
        arguments = ['{"city": "Oslo",', ' "days": 2}']
        kiro.queue(Stream(tool_frames("get_weather", "tooluse_1", arguments) + closing_frames()))


@pytest.mark.parametrize("kind", KINDS)
def test_text(client: openai.OpenAI, kiro: FakeKiro, kind: str) -> None:
    response = client.responses.create(
        model=model(kind, "+tokens=7"),
        instructions="Answer briefly.",
        input="Say hello.",
        temperature=0.5,
        max_output_tokens=100,
    )
    assert response.status == "completed"
    assert response.id.startswith("resp_")
    assert response.instructions == "Answer briefly."
    assert response.output[0].type == "message"
    assert response.output_text
    assert response.usage is not None
    assert response.usage.input_tokens > 0
    assert response.usage.total_tokens == response.usage.input_tokens + response.usage.output_tokens
    if kind == "kiro":
        assert response.output_text.startswith("echo: Answer briefly.\n\nSay hello.")
    else:
        assert response.usage.output_tokens == 7


@pytest.mark.parametrize("kind", KINDS)
def test_stream(client: openai.OpenAI, kind: str) -> None:
    with client.responses.stream(model=model(kind, "+tokens=5"), input="Count.") as stream:
        events = list(stream)
        final = stream.get_final_response()
    kinds = [event.type for event in events]
    assert kinds[:4] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
    ]
    assert kinds[-4:] == [
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [event.sequence_number for event in events] == list(range(len(events)))
    deltas = "".join(event.delta for event in events if event.type == "response.output_text.delta")
    assert deltas == final.output_text
    assert final.usage is not None and final.usage.output_tokens > 0


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("stream", [False, True], ids=["create", "stream"])
def test_function_call_round_trip(
    client: openai.OpenAI, kiro: FakeKiro, kind: str, stream: bool
) -> None:
    question: Any = {"role": "user", "content": "Weather in Oslo?"}
    queue_weather_call(kiro, kind)
    request: Any = {"model": model(kind, "+tool"), "input": [question], "tools": TOOLS[1:]}
    if stream:
        with client.responses.stream(**request) as events:
            first = events.get_final_response()
    else:
        first = client.responses.create(**request)
    (call,) = first.output
    assert call.type == "function_call"
    assert call.name == "get_weather"
    arguments = json.loads(call.arguments)
    assert isinstance(arguments["city"], str) and isinstance(arguments["days"], int)

    history: Any = [
        question,
        call.model_dump(exclude_none=True),
        {"type": "function_call_output", "call_id": call.call_id, "output": "Sunny, 21 C"},
    ]
    answer = client.responses.create(model=model(kind, "+tool"), input=history, tools=TOOLS[1:])
    assert answer.status == "completed"
    assert answer.output[0].type == "message"
    if kind == "kiro":
        context = kiro.chats[-1].body["conversationState"]["currentMessage"]["userInputMessage"]
        results = context["userInputMessageContext"]["toolResults"]
        assert results[0]["toolUseId"] == call.call_id


@pytest.mark.parametrize("kind", KINDS)
def test_forced_tool_choice(client: openai.OpenAI, kiro: FakeKiro, kind: str) -> None:
    queue_weather_call(kiro, kind)
    response = client.responses.create(
        model=model(kind),
        input="Weather in Oslo?",
        tools=TOOLS,
        tool_choice={"type": "function", "name": "get_weather"},
    )
    assert [(item.type, getattr(item, "name", None)) for item in response.output] == [
        ("function_call", "get_weather")
    ]
    refused = client.responses.create(
        model=model(kind, "+tool"), input="Weather in Oslo?", tools=TOOLS, tool_choice="none"
    )
    assert refused.output[0].type == "message"


def sse_events(body: bytes) -> list[dict[str, Any]]:
    events = []
    for block in body.decode().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "data" in lines:
            data = json.loads(lines["data"])
            assert lines["event"] == data["type"]
            events.append(data)
    return events


@pytest.mark.parametrize("kind", KINDS)
def test_a_replayed_codex_request(gateway: RunningServer, kind: str) -> None:
    body = {**CODEX_REQUEST["body"], "model": model(kind, "+tool")}
    headers = {**CODEX_REQUEST["headers"], "authorization": f"Bearer {API_KEY}"}
    reply = httpx.post(gateway.base_url + "/v1/responses", json=body, headers=headers, timeout=30)
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/event-stream")
    events = sse_events(reply.content)
    assert [event["type"] for event in events][:2] == ["response.created", "response.in_progress"]
    assert events[-1]["type"] == "response.completed"
    # The history ends with a tool's output, so the simulator answers it in words.
    (item,) = [event["item"] for event in events if event["type"] == "response.output_item.done"]
    assert item["type"] == "message"
    assert events[-1]["response"]["output"] == [item]
    if kind in TRANSLATED:
        gateway.wait_for_output(f"route {KINDS[kind][:-1]}*: dropping hosted tool 'web_search'")


def test_hosted_tools_are_warned_about_once_per_route(gateway: RunningServer) -> None:
    body = {**CODEX_REQUEST["body"], "model": "oa-once"}
    for _ in range(2):
        reply = httpx.post(
            gateway.base_url + "/v1/responses",
            json=body,
            headers={"authorization": f"Bearer {API_KEY}"},
            timeout=30,
        )
        assert reply.status_code == 200
    # A worker's log lines arrive in order: after the second access line, any warning has.
    deadline = time.monotonic() + 10
    while sum("model=oa-once status=200" in line for line in gateway.output) < 2:
        assert time.monotonic() < deadline, "".join(gateway.output)
        time.sleep(0.02)
    warnings = [line for line in gateway.output if "route oa-*: dropping hosted tool" in line]
    assert len(warnings) == 1


@pytest.mark.parametrize("kind", ["sim", "pass-through", "openai", "anthropic"])
def test_a_failure_mid_stream_is_response_failed(client: openai.OpenAI, kind: str) -> None:
    with client.responses.stream(model=model(kind, "+tokens=20+reset"), input="Hi") as stream:
        events = list(stream)
    assert [event.sequence_number for event in events] == list(range(len(events)))
    last = events[-1]
    assert last.type == "response.failed"
    assert last.response.status == "failed"
    assert last.response.error is not None
    assert "reset" in last.response.error.message


@pytest.mark.parametrize(
    ("kind", "fields", "param"),
    [
        ("sim", {"input": None}, "input"),
        ("sim", {"input": 5}, "input"),
        ("sim", {"input": []}, "input"),
        ("sim", {"input": [{"type": "shiny_new_item"}]}, "input[0].type"),
        ("sim", {"input": [{"role": "robot", "content": "hi"}]}, "input[0].role"),
        ("sim", {"input": "hi", "temperature": "hot"}, "temperature"),
        ("openai", {"input": "hi", "previous_response_id": "resp_1"}, "previous_response_id"),
        ("anthropic", {"input": [{"type": "item_reference", "id": "msg_1"}]}, "input[0]"),
    ],
)
def test_bad_input_is_a_clear_400(
    client: openai.OpenAI, kind: str, fields: dict[str, Any], param: str
) -> None:
    body = {"model": model(kind), **fields}
    if body["input"] is None:
        del body["input"]
    with pytest.raises(openai.BadRequestError) as caught:
        client.post("/responses", body=body, cast_to=httpx.Response)
    assert caught.value.status_code == 400
    error = caught.value.body
    assert isinstance(error, dict)
    assert error["param"] == param
    assert error["type"] == "invalid_request_error"
    assert error["code"] == "validation"
    assert param.split("[")[0] in error["message"]


@pytest.mark.parametrize("kind", ["sim", "pass-through", "openai", "anthropic"])
@pytest.mark.parametrize("stream", [False, True], ids=["create", "stream"])
def test_an_upstream_error_is_an_openai_error_with_its_status(
    client: openai.OpenAI, kind: str, stream: bool
) -> None:
    with pytest.raises(openai.RateLimitError) as caught:
        client.responses.create(model=model(kind, "+status=429"), input="Hi", stream=stream)
    assert caught.value.status_code == 429
    error = caught.value.body
    assert isinstance(error, dict)
    assert "429" in error["message"]
