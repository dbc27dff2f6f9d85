"""Stop signals reach a real supervisor (on the test's loop) and its real workers.

The first signal stops gracefully; the same signal again within
:data:`~llm_gateway.supervisor.supervisor.SAME_STOP_S` is the same request (GNU ``timeout``
sends it twice: to the gateway, then to its process group), and one after that stops at
once. The supervisor's clock is the test's, so "within" and "after" need no waiting.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator

import aiohttp
import pytest

from llm_gateway.server import bind_socket
from llm_gateway.supervisor import ServeOptions, Supervisor
from llm_gateway.supervisor.supervisor import SAME_STOP_S
from tests.integration.test_workers import CONFIG, KEY, MESSAGES, until


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Stopping:
    """A supervisor with one worker, serving a stream that takes seconds."""

    def __init__(self, supervisor: Supervisor, running: asyncio.Task[int], clock: Clock) -> None:
        self.supervisor = supervisor
        self.running = running
        self.clock = clock

    def logged(self, text: str) -> bool:
        lines = self.supervisor.log_reader(back=10_000).read().records()
        return any(text in line.message for line in lines)


@pytest.fixture
async def stopping() -> AsyncIterator[Stopping]:
    clock = Clock()
    listener = bind_socket("127.0.0.1", 0)
    options = ServeOptions(config=CONFIG, workers=1, grace_period_s=30.0)
    supervisor = Supervisor(options, listener, clock=clock)
    running = asyncio.create_task(supervisor.run())
    try:
        await until(lambda: supervisor.serving.is_set() or running.done(), "the worker serves")
        assert not running.done(), "the supervisor stopped during start-up"
        yield Stopping(supervisor, running, clock)
    finally:
        supervisor.stop()
        await asyncio.wait_for(running, 60)
        listener.close()


async def signal_ourselves(stopping: Stopping, sig: signal.Signals, then: str) -> None:
    """Send ``sig`` to this process, where the supervisor handles it, and wait for ``then``."""
    os.kill(os.getpid(), sig)
    await until(lambda: stopping.logged(then), then)


async def test_the_same_signal_twice_at_once_still_lets_a_stream_finish(
    stopping: Stopping,
) -> None:
    body = {"model": "slow+tokens=30+tps=15", "messages": MESSAGES, "stream": True}
    headers = {"authorization": f"Bearer {KEY}"}
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{stopping.supervisor.listen_url}/v1/chat/completions", json=body, headers=headers
        ) as response,
    ):
        assert (await response.content.readline()).startswith(b"data: ")
        await signal_ourselves(stopping, signal.SIGTERM, "stopping: in-flight requests")
        stopping.clock.now += SAME_STOP_S / 2
        await signal_ourselves(stopping, signal.SIGTERM, "still stopping gracefully")
        rest = (await response.read()).decode()
    assert rest.rstrip().endswith("data: [DONE]")
    assert await asyncio.wait_for(stopping.running, 30) == 0
    assert stopping.logged("worker 1 stopped (exit status 0)")
    assert not stopping.logged("stopping at once")


async def test_a_second_signal_after_a_moment_stops_at_once(stopping: Stopping) -> None:
    body = {"model": "slow+tokens=100+tps=2", "messages": MESSAGES, "stream": True}
    headers = {"authorization": f"Bearer {KEY}"}
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{stopping.supervisor.listen_url}/v1/chat/completions", json=body, headers=headers
        ) as response,
    ):
        assert (await response.content.readline()).startswith(b"data: ")
        await signal_ourselves(stopping, signal.SIGINT, "stopping: in-flight requests")
        stopping.clock.now += SAME_STOP_S
        await signal_ourselves(stopping, signal.SIGINT, "stopping at once")
        with pytest.raises(aiohttp.ClientError):
            await response.read()
    assert await asyncio.wait_for(stopping.running, 30) == 0
    assert stopping.logged("worker 1 stopped (killed by SIGKILL)")
