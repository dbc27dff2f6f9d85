"""ASGI responses that close their :class:`Exchange` once the last byte is sent.

Latency is measured to the last byte, and a streaming request stays "in flight" until
then, so the exchange is finished here, after sending, rather than in the endpoint.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable

from starlette.types import Receive, Scope, Send

from llm_gateway.frontends.exchange import CLIENT_CLOSED, Exchange

_JSON_HEADERS = [(b"content-type", b"application/json")]
_SSE_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
]


class JSONBytes:
    """A complete JSON body, already encoded, with any ``headers`` beyond the usual."""

    __slots__ = ("_body", "_exchange", "_headers", "_status")

    def __init__(
        self,
        body: bytes,
        status: int,
        exchange: Exchange,
        headers: list[tuple[bytes, bytes]] | None = None,
    ) -> None:
        self._body = body
        self._status = status
        self._exchange = exchange
        self._headers = headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": self._status,
                    "headers": [
                        *_JSON_HEADERS,
                        (b"content-length", str(len(self._body)).encode()),
                        *(self._headers or ()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": self._body})
        finally:
            self._exchange.finish(self._status)


class EventStream:
    """Server-sent events from an async iterator of ready-made byte chunks, with any
    ``headers`` beyond the usual.

    A watcher waits for the client to go away and cancels the sending task at once, so
    an abandoned stream stops reading its upstream (``close_upstream`` then drops the
    connection) instead of draining it to the end.
    """

    def __init__(
        self,
        chunks: AsyncGenerator[bytes, None],
        exchange: Exchange,
        close_upstream: Callable[[], Awaitable[None]],
        headers: list[tuple[bytes, bytes]] | None = None,
    ) -> None:
        self._chunks = chunks
        self._exchange = exchange
        self._close_upstream = close_upstream
        self._headers = [*_SSE_HEADERS, *headers] if headers else _SSE_HEADERS

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        task = asyncio.current_task()
        assert task is not None
        state = {"sent": False, "disconnected": False}

        async def watch_disconnect() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            # The server also reports a disconnect once the response is complete.
            if not state["sent"]:
                state["disconnected"] = True
                task.cancel()

        watcher = asyncio.create_task(watch_disconnect())
        status = 200
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self._headers})
            async for chunk in self._chunks:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            state["sent"] = True
        except asyncio.CancelledError:
            status = CLIENT_CLOSED
            if not state["disconnected"]:
                raise
            task.uncancel()
        finally:
            state["sent"] = True
            watcher.cancel()
            try:
                await self._chunks.aclose()
                await self._close_upstream()
            finally:
                self._exchange.finish(status)
