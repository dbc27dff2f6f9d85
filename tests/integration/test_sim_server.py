"""The simulator over real HTTP: the official SDKs as clients, every fault, and the very bytes
the in-process provider hands the gateway.

Most tests share one server run on the test event loop (so its clock can be fixed and its
bytes compared with the provider's); the last ones run ``llm-gateway sim`` as a process.
"""

from __future__ import annotations

import asyncio
import signal
import time
import urllib.request
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import anthropic
import openai
import orjson
import pytest
import pytest_asyncio
from openai.types.chat import ChatCompletionMessageFunctionToolCall

from llm_gateway.config import ModelRoute
from llm_gateway.errors import GatewayError
from llm_gateway.providers.sim import SimProvider
from llm_gateway.sim.engine import expected_usage, plan
from llm_gateway.sim.server import serving
from llm_gateway.sse import SSEParser
from tests.processes import running

pytestmark = pytest.mark.asyncio(loop_scope="module")

NOW = 1_760_000_000.0
PATHS = {
    "openai": "/v1/chat/completions",
    "anthropic": "/v1/messages",
    "responses": "/v1/responses",
}
WEATHER = {
    "type": "object",
    "properties": {
        "city": {"type": "string"},
        "days": {"type": "integer", "minimum": 1},
        "unit": {"enum": ["c", "f"]},
    },
    "required": ["city", "days", "unit"],
}
TOOLS: dict[str, Any] = {
    "openai": [{"type": "function", "function": {"name": "weather", "parameters": WEATHER}}],
    "anthropic": [{"name": "weather", "input_schema": WEATHER}],
    "responses": [{"type": "function", "name": "weather", "parameters": WEATHER}],
}
MESSAGES: Any = [{"role": "user", "content": "What is the weather like?"}]


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def base_url() -> AsyncIterator[str]:
    async with serving(clock=lambda: NOW) as url:
        yield url


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest_asyncio.fixture(loop_scope="module")
async def openai_client(base_url: str) -> AsyncIterator[openai.AsyncOpenAI]:
    client = openai.AsyncOpenAI(base_url=base_url + "/v1", api_key="any-key", max_retries=0)
    yield client
    await client.close()


@pytest_asyncio.fixture(loop_scope="module")
async def anthropic_client(base_url: str) -> AsyncIterator[anthropic.AsyncAnthropic]:
    client = anthropic.AsyncAnthropic(base_url=base_url, api_key="any-key", max_retries=0)
    yield client
    await client.close()


def request(api: str, model: str, *, stream: bool = False, **fields: Any) -> dict[str, Any]:
    conversation = {"input" if api == "responses" else "messages": MESSAGES}
    body: dict[str, Any] = {"model": model, **conversation, "stream": stream, **fields}
    if api == "anthropic":
        body.setdefault("max_tokens", 200)
    if "+tool" in model:
        body["tools"] = TOOLS[api]
    return body


async def post(
    http: aiohttp.ClientSession, base_url: str, api: str, body: dict[str, Any]
) -> tuple[int, str, bytes]:
    async with http.post(base_url + PATHS[api], json=body) as response:
        return response.status, response.content_type, await response.read()


async def in_process(api: Any, body: dict[str, Any]) -> bytes:
    """What the in-process provider hands the gateway, as bytes."""
    sim = SimProvider(ModelRoute(name="*", provider="sim"), clock=lambda: NOW)
    reply = await sim.send(api, body, stream=body["stream"])
    try:
        if body["stream"]:
            return b"".join([event.raw async for event in reply.events()])
        return await reply.read()
    finally:
        await reply.aclose()


# -- The official SDKs ------------------------------------------------------------------


async def test_openai_sdk_completion(openai_client: openai.AsyncOpenAI) -> None:
    body = request("openai", "sim+tokens=7")
    completion = await openai_client.chat.completions.create(
        model="sim+tokens=7", messages=MESSAGES
    )
    assert completion.choices[0].finish_reason == "stop"
    assert len((completion.choices[0].message.content or "").split(" ")) == 7
    assert completion.usage is not None
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == expected_usage(
        "openai", body
    )
    assert completion.created == int(NOW)


async def test_openai_sdk_stream_with_usage(openai_client: openai.AsyncOpenAI) -> None:
    stream = await openai_client.chat.completions.create(
        model="sim+tokens=5",
        messages=MESSAGES,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = [chunk async for chunk in stream]
    *others, last = chunks
    assert last.choices == []
    assert last.usage is not None
    assert (last.usage.prompt_tokens, last.usage.completion_tokens) == (7, 5)
    assert all(chunk.usage is None for chunk in others)
    text = "".join(chunk.choices[0].delta.content or "" for chunk in others)
    assert len(text.split(" ")) == 5
    assert others[-1].choices[0].finish_reason == "stop"


async def test_openai_sdk_tool_call(openai_client: openai.AsyncOpenAI) -> None:
    completion = await openai_client.chat.completions.create(
        model="sim+tool",
        messages=MESSAGES,
        tools=TOOLS["openai"],
    )
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.tool_calls is not None
    (call,) = choice.message.tool_calls
    assert isinstance(call, ChatCompletionMessageFunctionToolCall)
    assert call.function.name == "weather"
    arguments = orjson.loads(call.function.arguments)
    assert isinstance(arguments["city"], str)
    assert isinstance(arguments["days"], int) and arguments["days"] >= 1
    assert arguments["unit"] in ("c", "f")


async def test_openai_sdk_lists_models(openai_client: openai.AsyncOpenAI) -> None:
    models = [model.id async for model in openai_client.models.list()]
    assert models == ["sim"]


async def test_anthropic_sdk_message(anthropic_client: anthropic.AsyncAnthropic) -> None:
    message = await anthropic_client.messages.create(
        model="sim+tokens=6",
        max_tokens=100,
        messages=MESSAGES,
        stop_sequences=["never"],
    )
    assert message.stop_reason == "end_turn"
    assert message.content[0].type == "text"
    assert len(message.content[0].text.split(" ")) == 6
    assert (message.usage.input_tokens, message.usage.output_tokens) == (7, 6)


async def test_anthropic_sdk_stream(anthropic_client: anthropic.AsyncAnthropic) -> None:
    async with anthropic_client.messages.stream(
        model="sim+tokens=8",
        max_tokens=3,
        messages=MESSAGES,
    ) as stream:
        text = "".join([piece async for piece in stream.text_stream])
        message = await stream.get_final_message()
    assert len(text.split(" ")) == 3
    assert message.stop_reason == "max_tokens"
    assert message.usage.output_tokens == 3


async def test_anthropic_sdk_streamed_tool_use(anthropic_client: anthropic.AsyncAnthropic) -> None:
    async with anthropic_client.messages.stream(
        model="sim+tool",
        max_tokens=100,
        messages=MESSAGES,
        tools=TOOLS["anthropic"],
    ) as stream:
        message = await stream.get_final_message()
    assert message.stop_reason == "tool_use"
    (block,) = message.content
    assert block.type == "tool_use"
    assert block.name == "weather"
    assert set(block.input) == {"city", "days", "unit"}


async def test_openai_sdk_response(openai_client: openai.AsyncOpenAI) -> None:
    body = request("responses", "sim+tokens=7")
    response = await openai_client.responses.create(
        model="sim+tokens=7", input=MESSAGES, instructions="Be brief."
    )
    assert response.status == "completed"
    assert response.id.startswith("resp_")
    assert response.instructions == "Be brief."
    assert len(response.output_text.split(" ")) == 7
    assert response.usage is not None
    assert (response.usage.input_tokens, response.usage.output_tokens) == expected_usage(
        "responses", {**body, "instructions": "Be brief."}
    )


async def test_openai_sdk_response_stream_with_forced_tool(
    openai_client: openai.AsyncOpenAI,
) -> None:
    async with openai_client.responses.stream(
        model="sim",
        input=MESSAGES,
        tools=TOOLS["responses"],
        tool_choice={"type": "function", "name": "weather"},
    ) as stream:
        kinds = [event.type async for event in stream]
        final = await stream.get_final_response()
    assert kinds[:3] == ["response.created", "response.in_progress", "response.output_item.added"]
    assert kinds[-3:] == [
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.completed",
    ]
    (call,) = final.output
    assert call.type == "function_call"
    assert call.name == "weather"
    assert orjson.loads(call.arguments) == {"city": "sample", "days": 1, "unit": "c"}


async def test_anthropic_sdk_counts_tokens(anthropic_client: anthropic.AsyncAnthropic) -> None:
    count = await anthropic_client.messages.count_tokens(
        model="sim", system="Be brief.", messages=MESSAGES
    )
    body = {"model": "sim", "max_tokens": 1, "system": "Be brief.", "messages": MESSAGES}
    assert count.input_tokens == expected_usage("anthropic", body)[0]


async def test_sdks_see_status_directives_as_api_errors(
    openai_client: openai.AsyncOpenAI, anthropic_client: anthropic.AsyncAnthropic
) -> None:
    with pytest.raises(openai.RateLimitError) as openai_caught:
        await openai_client.chat.completions.create(model="sim+status=429", messages=MESSAGES)
    assert openai_caught.value.body == {
        "message": "simulated upstream error: 429 Too Many Requests",
        "type": "rate_limit_error",
        "param": None,
        "code": "upstream",
    }
    with pytest.raises(anthropic.InternalServerError) as anthropic_caught:
        await anthropic_client.messages.create(
            model="sim+status=529",
            max_tokens=10,
            messages=MESSAGES,
        )
    assert anthropic_caught.value.status_code == 529
    assert anthropic_caught.value.body == {
        "type": "error",
        "error": {
            "type": "overloaded_error",
            "message": "simulated upstream error: 529 Overloaded",
        },
    }


async def test_sdks_see_unknown_directives_as_bad_requests(
    openai_client: openai.AsyncOpenAI, anthropic_client: anthropic.AsyncAnthropic
) -> None:
    with pytest.raises(openai.BadRequestError, match="unknown simulator directive 'fast'"):
        await openai_client.chat.completions.create(model="sim+fast", messages=MESSAGES)
    with pytest.raises(anthropic.BadRequestError, match="unknown simulator directive 'fast'"):
        await anthropic_client.messages.create(model="sim+fast", max_tokens=5, messages=MESSAGES)


# -- The same bytes as the in-process provider -------------------------------------------


@pytest.mark.parametrize("api", ["openai", "anthropic", "responses"])
@pytest.mark.parametrize("stream", [False, True], ids=["body", "stream"])
@pytest.mark.parametrize("model", ["sim", "sim+tokens=3+tool", "sim+garbage", "sim+stall=20"])
async def test_http_sends_the_bytes_the_provider_hands_over(
    http: aiohttp.ClientSession, base_url: str, api: str, stream: bool, model: str
) -> None:
    body = request(api, model, stream=stream)
    status, content_type, received = await post(http, base_url, api, body)
    assert status == 200
    assert content_type == ("text/event-stream" if stream else "application/json")
    assert received == await in_process(api, body)


@pytest.mark.parametrize("api", ["openai", "anthropic", "responses"])
async def test_http_error_body_carries_the_provider_error_message(
    http: aiohttp.ClientSession, base_url: str, api: Any
) -> None:
    body = request(api, "sim+status=418", stream=True)
    status, content_type, received = await post(http, base_url, api, body)
    assert (status, content_type) == (418, "application/json")
    with pytest.raises(GatewayError) as caught:
        await in_process(api, body)
    assert orjson.loads(received)["error"]["message"] == caught.value.message


async def test_a_body_that_is_not_json_is_a_400(http: aiohttp.ClientSession, base_url: str) -> None:
    async with http.post(base_url + PATHS["anthropic"], data=b"{nope") as response:
        assert response.status == 400
        assert (await response.json())["error"]["type"] == "invalid_request_error"


# -- Faults over the wire ----------------------------------------------------------------


@pytest.mark.parametrize("api", ["openai", "anthropic"])
@pytest.mark.parametrize("stream", [False, True], ids=["body", "stream"])
async def test_reset_breaks_the_connection_after_the_first_half(
    http: aiohttp.ClientSession, base_url: str, api: Any, stream: bool
) -> None:
    body = request(api, "sim+tokens=10+reset", stream=stream)
    received = b""
    with pytest.raises(aiohttp.ClientPayloadError) as caught:
        async with http.post(base_url + PATHS[api], json=body) as response:
            assert response.status == 200
            async for chunk in response.content.iter_any():
                received += chunk
    # aiohttp names the reset only in the message; a clean close (FIN) would not say it.
    assert "ConnectionResetError" in str(caught.value)
    assert received == plan(api, body, stream=stream, created=int(NOW)).body
    with pytest.raises(GatewayError, match="upstream connection reset"):
        await in_process(api, body)


@pytest.mark.parametrize("api", ["openai", "anthropic"])
async def test_garbage_is_not_json(http: aiohttp.ClientSession, base_url: str, api: str) -> None:
    _, _, body = await post(http, base_url, api, request(api, "sim+garbage"))
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(body)
    _, _, stream = await post(http, base_url, api, request(api, "sim+garbage", stream=True))
    parser = SSEParser()
    *good, bad = parser.feed(stream)
    assert parser.pending == b""
    for event in good:
        event.json()
    with pytest.raises(orjson.JSONDecodeError):
        bad.json()


async def test_delay_holds_back_the_headers(http: aiohttp.ClientSession, base_url: str) -> None:
    started = time.monotonic()
    async with http.post(base_url + PATHS["openai"], json=request("openai", "sim+delay=150")):
        assert time.monotonic() - started >= 0.15


@pytest.mark.parametrize("stream", [False, True], ids=["body", "stream"])
async def test_stall_pauses_after_the_first_part(
    http: aiohttp.ClientSession, base_url: str, stream: bool
) -> None:
    body = request("anthropic", "sim+tokens=4+stall=150", stream=stream)
    async with http.post(base_url + PATHS["anthropic"], json=body) as response:
        first = await response.content.readany()
        first_at = time.monotonic()
        rest = await response.read()
        assert time.monotonic() - first_at >= 0.15
    assert first + rest == await in_process("anthropic", body)


async def test_tps_paces_the_stream(http: aiohttp.ClientSession, base_url: str) -> None:
    started = time.monotonic()
    await post(http, base_url, "openai", request("openai", "sim+tokens=6+tps=40", stream=True))
    assert time.monotonic() - started >= 6 / 40


# -- The command ---------------------------------------------------------------------------


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_the_sim_command_serves_until_signalled_then_exits_0(stop: signal.Signals) -> None:
    # In a thread: the process helpers block, and this module's event loop serves the others.
    await asyncio.to_thread(run_the_sim_command, stop)


def run_the_sim_command(stop: signal.Signals) -> None:
    with running(["sim", "--host", "127.0.0.1", "--port", "0"]) as server:
        with urllib.request.urlopen(server.base_url + "/v1/models", timeout=10) as response:
            assert orjson.loads(response.read())["data"][0]["id"] == "sim"
        assert server.stop(stop) == 0
    assert not any("Traceback" in line for line in server.output)
