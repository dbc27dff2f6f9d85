"""The in-process simulator on the provider contract: the plan's bytes, its waits and its faults."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest

from llm_gateway.config import ModelRoute
from llm_gateway.errors import GatewayError
from llm_gateway.providers.sim import SimProvider
from llm_gateway.sim.engine import plan
from llm_gateway.sse import SSEEvent

NOW = 1_750_000_000.0


class RecordedSleep:
    """A sleep that returns at once and remembers what it was asked for."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def provider(sleep: Any, read_timeout: float = 600.0) -> SimProvider:
    route = ModelRoute(name="*", provider="sim", read_timeout=read_timeout)
    return SimProvider(route, clock=lambda: NOW, sleep=sleep)


def request(model: str) -> dict[str, Any]:
    return {"model": model, "max_tokens": 50, "messages": [{"role": "user", "content": "Hi"}]}


async def all_events(provider: SimProvider, api: Any, body: dict[str, Any]) -> list[SSEEvent]:
    reply = await provider.send(api, body, stream=True)
    try:
        return [event async for event in reply.events()]
    finally:
        await reply.aclose()


@pytest.mark.parametrize("api", ["openai", "anthropic"])
async def test_read_returns_the_planned_body(api: Any) -> None:
    sleep = RecordedSleep()
    reply = await provider(sleep).send(api, request("sim+tokens=6"), stream=False)
    body = await reply.read()
    assert body == plan(api, request("sim+tokens=6"), stream=False, created=int(NOW)).body
    assert reply.meta.tokens_estimated is False
    assert sleep.calls == []
    await reply.aclose()
    await reply.aclose()


@pytest.mark.parametrize("api", ["openai", "anthropic"])
async def test_events_carry_exactly_the_planned_bytes(api: Any) -> None:
    body = request("sim+tokens=6+tool") | {"tools": [{"name": "t", "input_schema": {}}]}
    if api == "openai":
        body["tools"] = [{"type": "function", "function": {"name": "t"}}]
    events = await all_events(provider(RecordedSleep()), api, body)
    planned = plan(api, body, stream=True, created=int(NOW))
    assert b"".join(event.raw for event in events) == planned.body
    assert [event.raw for event in events] == [piece.data for piece in planned.pieces]


async def test_status_directive_raises_upstream_with_the_body_message() -> None:
    with pytest.raises(GatewayError) as caught:
        await provider(RecordedSleep()).send("openai", request("sim+status=503"), stream=False)
    error = caught.value
    assert (error.error_type, error.status) == ("upstream", 503)
    http_body = plan("openai", request("sim+status=503"), stream=False, created=0).body
    assert error.message == orjson.loads(http_body)["error"]["message"]


async def test_unknown_directive_raises_validation() -> None:
    with pytest.raises(GatewayError) as caught:
        await provider(RecordedSleep()).send("anthropic", request("sim+nope"), stream=True)
    assert (caught.value.error_type, caught.value.status) == ("validation", 400)


async def test_delay_sleeps_before_the_reply() -> None:
    sleep = RecordedSleep()
    await provider(sleep).send("openai", request("sim+delay=250"), stream=True)
    assert sleep.calls == [0.25]


async def test_delay_longer_than_the_read_timeout_times_out() -> None:
    sleep = RecordedSleep()
    with pytest.raises(GatewayError) as caught:
        await provider(sleep, read_timeout=1.5).send(
            "openai", request("sim+delay=2000"), stream=True
        )
    assert (caught.value.error_type, caught.value.status) == ("timeout", 504)
    assert sleep.calls == [1.5]


async def test_stall_pauses_inside_events() -> None:
    sleep = RecordedSleep()
    events = await all_events(provider(sleep), "anthropic", request("sim+tokens=4+stall=800"))
    assert sleep.calls == [0.8]
    assert events[-1].event == "message_stop"


@pytest.mark.parametrize("stream", [True, False])
async def test_stall_longer_than_the_read_timeout_times_out_after_it(stream: bool) -> None:
    sleep = RecordedSleep()
    sim = provider(sleep, read_timeout=0.5)
    reply = await sim.send("openai", request("sim+tokens=4+stall=900"), stream=stream)
    received: list[SSEEvent] = []
    with pytest.raises(GatewayError) as caught:
        if stream:
            async for event in reply.events():
                received.append(event)
        else:
            await reply.read()
    assert (caught.value.error_type, caught.value.status, caught.value.message) == (
        "timeout",
        504,
        "upstream timed out",
    )
    assert sleep.calls == [0.5]
    # Of the seven chunks (role, four tokens, finish, [DONE]), the first three came first.
    assert len(received) == (3 if stream else 0)


async def test_tps_paces_events() -> None:
    sleep = RecordedSleep()
    await all_events(provider(sleep), "openai", request("sim+tokens=5+tps=10"))
    assert sleep.calls == [0.1] * 5


@pytest.mark.parametrize("api", ["openai", "anthropic"])
async def test_reset_raises_from_events_after_the_first_half(api: Any) -> None:
    reply = await provider(RecordedSleep()).send(api, request("sim+tokens=4+reset"), stream=True)
    received: list[SSEEvent] = []
    with pytest.raises(GatewayError) as caught:
        async for event in reply.events():
            received.append(event)
    assert (caught.value.error_type, caught.value.status) == ("upstream", 502)
    assert caught.value.message == "upstream connection reset"
    planned = plan(api, request("sim+tokens=4+reset"), stream=True, created=int(NOW))
    assert [event.raw for event in received] == [piece.data for piece in planned.pieces]
    assert received


async def test_reset_raises_from_read() -> None:
    reply = await provider(RecordedSleep()).send("anthropic", request("sim+reset"), stream=False)
    with pytest.raises(GatewayError, match="upstream connection reset"):
        await reply.read()


async def test_garbage_is_handed_over_as_it_is() -> None:
    events = await all_events(provider(RecordedSleep()), "openai", request("sim+garbage"))
    with pytest.raises(orjson.JSONDecodeError):
        events[-1].json()
    reply = await provider(RecordedSleep()).send("openai", request("sim+garbage"), stream=False)
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(await reply.read())


async def test_reading_can_be_cancelled_mid_stall() -> None:
    started = asyncio.Event()

    async def endless(seconds: float) -> None:
        started.set()
        await asyncio.Event().wait()

    reply = await provider(endless).send("openai", request("sim+stall=1000"), stream=True)
    events = reply.events()

    async def consume() -> list[SSEEvent]:
        return [event async for event in events]

    task = asyncio.create_task(consume())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await reply.aclose()


def test_the_provider_speaks_every_api() -> None:
    assert SimProvider.speaks == frozenset({"openai", "anthropic", "responses"})


async def test_a_long_stream_lets_the_loop_run_while_it_is_sent() -> None:
    """Sent at full speed, the pieces still leave room for the worker's other requests."""
    ticks = 0
    done = asyncio.Event()

    async def other_work() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            await asyncio.sleep(0)

    other = asyncio.create_task(other_work())
    await asyncio.sleep(0)
    reply = await provider(asyncio.sleep).send(
        "openai", request("sim+tokens=2000") | {"max_tokens": 5000}, stream=True
    )
    seen = 0
    async for _ in reply.events():
        seen += 1
    ticks_during = ticks
    done.set()
    await other
    assert seen == 2000 + 3
    assert ticks_during >= 2000 // 64
