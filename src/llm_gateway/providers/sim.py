"""The in-process simulator: the engine's plan played out on the provider contract.

This is what a route with ``provider = "sim"`` (and a gateway with no config at all) uses.
It answers exactly as ``llm-gateway sim`` would over HTTP, and fails the way the HTTP
providers fail when that server misbehaves: an error status raises ``upstream`` with the
body's message, silence longer than ``read_timeout`` raises ``timeout``, a dropped
connection raises ``upstream connection reset``, and garbage is handed over as it is,
for the front-end to reject like any other malformed reply.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

from llm_gateway.apis import Api
from llm_gateway.config import ModelRoute
from llm_gateway.errors import GatewayError
from llm_gateway.headers import NO_HEADERS
from llm_gateway.providers.base import ReplyMeta
from llm_gateway.sim.engine import YIELD_EVERY, Plan, plan
from llm_gateway.sse import SSEEvent, SSEParser

Sleep = Callable[[float], Awaitable[None]]


class SimProvider:
    speaks: frozenset[Api] = frozenset({"openai", "anthropic", "responses"})

    def __init__(
        self,
        route: ModelRoute,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._clock = clock
        self._wait = _Waiter(sleep, route.read_timeout)

    async def send(
        self,
        api: Api,
        body: dict[str, Any],
        *,
        stream: bool,
        raw: bytes | None = None,
        headers: Mapping[str, str] = NO_HEADERS,
    ) -> SimReply:
        reply_plan = plan(api, body, stream=stream, created=int(self._clock()))
        await self._wait(reply_plan.delay)
        if reply_plan.error is not None:
            # As over HTTP: the error answer's body goes with it, in the API's shape.
            reply_plan.error.upstream_body = reply_plan.body
            reply_plan.error.upstream_api = api
            raise reply_plan.error
        return SimReply(reply_plan, self._wait)

    async def aclose(self) -> None:
        return None


class SimReply:
    """A planned reply, its pieces handed out after their pauses.

    Nothing is held open, so cancelling :meth:`read` or :meth:`events` mid-way (a client
    that went away) leaves nothing to clean up.
    """

    def __init__(self, plan: Plan, wait: _Waiter) -> None:
        self.meta = ReplyMeta()
        self.headers: Mapping[str, str] = NO_HEADERS
        self._plan = plan
        self._wait = wait

    async def read(self) -> bytes:
        for piece in self._plan.pieces:
            await self._wait(piece.pause)
        self._raise_if_reset()
        return self._plan.body

    async def events(self) -> AsyncIterator[SSEEvent]:
        # Parsed from the planned bytes, as an HTTP provider parses what it receives.
        parser = SSEParser()
        for piece in self._plan.pieces:
            await self._wait(piece.pause)
            for event in parser.feed(piece.data):
                yield event
        self._raise_if_reset()

    async def aclose(self) -> None:
        return None

    def _raise_if_reset(self) -> None:
        if self._plan.reset:
            raise GatewayError("upstream", 502, "upstream connection reset")


class _Waiter:
    """Sleeps through the planned pauses, giving up as an HTTP read would after ``read_timeout``.

    Pieces with no pause still let the loop run every :data:`YIELD_EVERY` of them, so a
    long reply sent at full speed never holds up the worker's other requests.
    """

    def __init__(self, sleep: Sleep, read_timeout: float) -> None:
        self._sleep = sleep
        self._read_timeout = read_timeout
        self._unpaused = 0

    async def __call__(self, seconds: float) -> None:
        if seconds <= 0:
            self._unpaused += 1
            if self._unpaused % YIELD_EVERY == 0:
                await asyncio.sleep(0)
            return
        if seconds > self._read_timeout:
            await self._sleep(self._read_timeout)
            raise GatewayError("timeout", 504, "upstream timed out")
        await self._sleep(seconds)
