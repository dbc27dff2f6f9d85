"""Real worker processes behind an in-process supervisor: the merged metrics are exact.

The supervisor runs on the test's event loop so the test can read its snapshot; the
workers are real processes serving the real app with the in-process simulator upstream.
Every outcome is counted here, from what each client asked for and saw, and compared
with what the workers reported.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import anthropic
import openai
import psutil
import pytest

from llm_gateway.apis import Api
from llm_gateway.config import GatewayConfig, ModelRoute
from llm_gateway.dashboard.feed import DashboardFeed
from llm_gateway.errors import ERROR_TYPES, ErrorType
from llm_gateway.metrics.snapshot import Snapshot
from llm_gateway.server import bind_socket
from llm_gateway.sim.engine import expected_usage
from llm_gateway.supervisor import ServeOptions, Supervisor

KEY = "sk-test"
CONFIG = GatewayConfig(
    models=(
        # Long enough for a request to be caught in flight; the rest time out fast.
        ModelRoute(name="slow*", provider="sim", read_timeout=30.0),
        ModelRoute(name="*", provider="sim", read_timeout=0.5),
    ),
    api_keys=(KEY,),
)
MESSAGES = [{"role": "user", "content": "Say something about the sea."}]


async def until(condition: Callable[[], bool], what: str, within: float = 15.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        await asyncio.sleep(0.02)


@pytest.fixture
async def supervisor() -> AsyncIterator[Supervisor]:
    listener = bind_socket("127.0.0.1", 0)
    supervisor = Supervisor(ServeOptions(config=CONFIG, workers=2, grace_period_s=5.0), listener)
    running = asyncio.create_task(supervisor.run())
    try:
        await until(lambda: supervisor.serving.is_set() or running.done(), "the workers serve")
        assert not running.done(), "the supervisor stopped during start-up"
        yield supervisor
    finally:
        supervisor.stop()
        assert await asyncio.wait_for(running, 30) == 0
        listener.close()


class Usage:
    """Tokens as the client saw them, so far."""

    def __init__(self) -> None:
        self.input = 0
        self.output = 0


class Clients:
    def __init__(self, base_url: str, key: str = KEY) -> None:
        self.openai = openai.AsyncOpenAI(base_url=f"{base_url}/v1", api_key=key, max_retries=0)
        self.anthropic = anthropic.AsyncAnthropic(base_url=base_url, api_key=key, max_retries=0)

    async def call(self, api: Api, body: dict[str, Any], seen: Usage) -> None:
        if api == "openai":
            await self._openai(body, seen)
        else:
            await self._anthropic(body, seen)

    async def _openai(self, body: dict[str, Any], seen: Usage) -> None:
        if not body["stream"]:
            reply = await self.openai.chat.completions.create(**body)
            assert reply.usage is not None
            seen.input, seen.output = reply.usage.prompt_tokens, reply.usage.completion_tokens
            return
        async for chunk in await self.openai.chat.completions.create(**body):
            if chunk.usage is not None:
                seen.input, seen.output = chunk.usage.prompt_tokens, chunk.usage.completion_tokens

    async def _anthropic(self, body: dict[str, Any], seen: Usage) -> None:
        if not body["stream"]:
            reply = await self.anthropic.messages.create(**body)
            seen.input, seen.output = reply.usage.input_tokens, reply.usage.output_tokens
            return
        async for event in await self.anthropic.messages.create(**body):
            if event.type == "message_start":
                seen.input = event.message.usage.input_tokens
                seen.output = event.message.usage.output_tokens
            elif event.type == "message_delta":
                seen.output = event.usage.output_tokens

    async def close(self) -> None:
        await self.openai.close()
        await self.anthropic.close()


class Tally:
    """What the clients asked for and saw, counted independently of the gateway."""

    def __init__(self, clients: Clients) -> None:
        self.clients = clients
        self.requests = 0
        self.errors: Counter[ErrorType] = Counter()
        self.client_closed = 0
        self.input_tokens = 0
        self.output_tokens = 0
        self.per_model: Counter[str] = Counter()

    async def success(self, api: Api, body: dict[str, Any]) -> None:
        seen = Usage()
        await self.clients.call(api, body, seen)
        assert (seen.input, seen.output) == expected_usage(api, body)
        self._count(body["model"], seen)

    async def failure(
        self,
        kind: ErrorType,
        api: Api,
        body: dict[str, Any],
        *,
        via: Clients | None = None,
        model: str | None = None,
    ) -> None:
        """A request that must fail; ``model`` is the gateway's label if not the body's.

        A stream that fails midway has its tokens estimated by the gateway (what it had
        relayed, and the prompt), so they are compared apart: none are counted here.
        """
        seen = Usage()
        with pytest.raises((openai.APIError, anthropic.APIError)):
            await (via or self.clients).call(api, body, seen)
        self._count(model or body["model"], Usage() if body["stream"] else seen)
        self.errors[kind] += 1

    def client_left(self, model: str) -> None:
        self._count(model, Usage())
        self.client_closed += 1

    def _count(self, model: str, seen: Usage) -> None:
        self.requests += 1
        self.per_model[model] += 1
        self.input_tokens += seen.input
        self.output_tokens += seen.output


async def leave_mid_stream(base_url: str, model: str) -> None:
    """Read the first bytes of a slow stream, then hang up."""
    body = {"model": model, "messages": MESSAGES, "stream": True}
    headers = {"authorization": f"Bearer {KEY}"}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{base_url}/v1/chat/completions", json=body, headers=headers) as response,
    ):
        assert response.status == 200
        await response.content.readline()


def oai(model: str, *, stream: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {"model": model, "messages": MESSAGES, "stream": stream}
    if stream:
        body["stream_options"] = {"include_usage": True}
    return body


def ant(model: str, *, stream: bool = False) -> dict[str, Any]:
    return {"model": model, "messages": MESSAGES, "max_tokens": 256, "stream": stream}


async def test_counts_equal_what_the_clients_saw(supervisor: Supervisor) -> None:
    url = supervisor.listen_url
    clients, stranger = Clients(url), Clients(url, key="sk-wrong")
    tally = Tally(clients)
    calls: list[Awaitable[None]] = []
    for n in range(6):
        calls += [
            tally.success("openai", oai(f"chat-{n}+tokens={n + 3}")),
            tally.success("openai", oai("chat-s+tokens=5", stream=True)),
            tally.success("anthropic", ant(f"msg-{n}+tokens={n + 1}")),
            tally.success("anthropic", ant("msg-s+tokens=4", stream=True)),
        ]
    faults: list[tuple[ErrorType, str, bool]] = [
        ("upstream", "e+status=500", False),
        ("upstream", "e+status=429", True),
        ("upstream", "e+reset", False),
        ("upstream", "e+reset", True),
        ("upstream", "e+garbage", False),
        ("upstream", "e+garbage", True),
        ("timeout", "e+delay=3000", False),
        ("timeout", "e+stall=3000", True),
        ("validation", "e+bogus", False),
    ]
    for kind, model, stream in faults:
        calls += [
            tally.failure(kind, "openai", oai(model, stream=stream)),
            tally.failure(kind, "anthropic", ant(model, stream=stream)),
        ]
    # Refused before its body is read, so the gateway has no model name for it.
    calls.append(tally.failure("auth", "openai", oai("m"), via=stranger, model="(unauthenticated)"))
    await asyncio.gather(*calls)
    for _ in range(3):
        await leave_mid_stream(url, "slow-gone+tokens=400+tps=20")
        tally.client_left("slow-gone+tokens=400+tps=20")

    await until(lambda: supervisor.snapshot().requests_total >= tally.requests, "all are merged")
    await until(lambda: supervisor.snapshot().active_connections == 0, "nothing is in flight")
    feed: DashboardFeed = supervisor  # what the console reads it as
    snap = feed.snapshot()

    assert snap.requests_total == tally.requests == 24 + 19 + 3
    assert snap.errors_by_type == {kind: tally.errors[kind] for kind in ERROR_TYPES}
    assert snap.errors_total == sum(tally.errors.values()) == 19
    assert snap.client_closed_total == tally.client_closed
    # The streams cut short count their prompt and the deltas they had relayed, as
    # estimates: streams left mid-way (how many deltas depends on when the gateway saw the
    # client go) and those that failed midway. The other streams fail before any event.
    estimated = {m.model: m for m in snap.models if m.tokens_estimated}
    assert set(estimated) == {"slow-gone+tokens=400+tps=20", "e+reset", "e+garbage", "e+stall=3000"}
    for cut in estimated.values():
        assert cut.input_tokens > 0 and cut.output_tokens >= 3, cut
    assert (
        snap.input_tokens_total - sum(m.input_tokens for m in estimated.values()),
        snap.output_tokens_total - sum(m.output_tokens for m in estimated.values()),
    ) == (tally.input_tokens, tally.output_tokens)
    assert {m.model: m.requests for m in snap.models} == dict(tally.per_model)
    assert snap.workers == 2
    assert snap.latency.p50 is not None
    await clients.close()
    await stranger.close()


async def test_a_worker_killed_mid_request_is_replaced_and_forgotten(
    supervisor: Supervisor, capsys: pytest.CaptureFixture[str]
) -> None:
    url = supervisor.listen_url
    workers = worker_processes()
    assert len(workers) == 2

    async with aiohttp.ClientSession() as session:
        body = {"model": "slow+tokens=400+tps=20", "messages": MESSAGES, "stream": True}
        headers = {"authorization": f"Bearer {KEY}"}
        async with session.post(
            f"{url}/v1/chat/completions", json=body, headers=headers
        ) as response:
            await response.content.readline()
            await until(lambda: supervisor.snapshot().active_connections == 1, "it is counted")
            serving = serving_worker(workers, response)
            os.kill(serving.pid, signal.SIGKILL)
            with pytest.raises(aiohttp.ClientError):
                await response.read()

    await until(lambda: supervisor.snapshot().active_connections == 0, "it is forgotten")
    await until(lambda: len(worker_processes()) == 2, "a new worker runs")
    await until(lambda: supervisor.snapshot().workers == 2, "the new worker reports")
    assert serving.pid not in {worker.pid for worker in worker_processes()}
    printed = Printed(capsys)
    await until(lambda: "died (killed by SIGKILL)" in printed, "the death is logged")

    client = openai.AsyncOpenAI(base_url=f"{url}/v1", api_key=KEY, max_retries=0)
    for _ in range(4):
        await client.chat.completions.create(**oai("after+tokens=2"))
    await client.close()
    await until(lambda: supervisor.snapshot().requests_total == 4, "the new requests count")
    snap: Snapshot = supervisor.snapshot()
    assert snap.errors_total == 0
    assert snap.active_connections == 0


class Printed:
    """What the supervisor has printed so far: plain mode writes log lines to stdout."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self._capsys = capsys
        self._text = ""

    def __contains__(self, needle: str) -> bool:
        self._text += self._capsys.readouterr().out
        return needle in self._text


async def test_a_worker_that_cannot_serve_fails_the_start_up(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # A datagram socket is no listener: each worker dies in its start-up, which is the
    # path a broken install or a port taken from under us would take.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as not_a_listener:
        not_a_listener.bind(("127.0.0.1", 0))
        supervisor = Supervisor(ServeOptions(config=CONFIG, workers=2), not_a_listener)
        assert await asyncio.wait_for(supervisor.run(), 30) == 1

    printed = capsys.readouterr().out
    assert "failed to start (exit status 1)" in printed
    assert "listening on" not in printed
    # The worker's traceback arrives through its captured output, one escaped line each.
    assert re.search(r"WARNING +w\d llm_gateway.worker.output: .*Error", printed), printed
    assert not worker_processes()


def worker_processes() -> list[psutil.Process]:
    """Our supervisor's workers (other tests may have started other children)."""
    return [child for child in psutil.Process().children() if is_worker(child)]


def is_worker(process: psutil.Process) -> bool:
    try:
        return "llm_gateway.supervisor.worker" in process.cmdline()
    except psutil.Error:  # gone since it was listed
        return False


def serving_worker(
    workers: list[psutil.Process], response: aiohttp.ClientResponse
) -> psutil.Process:
    """The worker holding the other end of this response's connection."""
    assert response.connection is not None and response.connection.transport is not None
    local = response.connection.transport.get_extra_info("sockname")
    for worker in workers:
        for connection in worker.net_connections(kind="tcp"):
            if connection.raddr and connection.raddr.port == local[1]:
                return worker
    raise AssertionError(f"no worker serves {local}")
