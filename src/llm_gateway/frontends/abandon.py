"""Run an API endpoint, and cancel it if its client leaves before its answer begins.

A non-streamed request can wait minutes on a slow upstream. Without this, a client that
gives up leaves that wait running, its upstream connection held, until the upstream
answers to no one; enough of them fill the upstream pool and every later request hangs.

:class:`Endpoint` is the ASGI app of an API route. It calls the endpoint's handler for
its response, and while it waits, watches the connection: from the moment the request
body has been read (the handler reads it through the same ``receive``, so watching any
earlier would take its messages) until the handler returns. A client that hangs up
cancels the handler; it then finishes its exchange as 499 and the provider's reply is
closed on the way out, which drops the upstream connection at once.

Once the handler has returned, the watching is over and the response is sent with the
server's own ``send``: nothing here sits between a stream's chunks and the socket. A
stream watches for its client itself (:class:`~llm_gateway.frontends.replies.EventStream`).
This replaces Starlette's wrapper for function endpoints, which would add a ``send``
wrapper of its own to every chunk for exception handlers these endpoints never need.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

Handler = Callable[[Request], Awaitable[ASGIApp]]


class Endpoint:
    """The ASGI app of one API route: see the module docstring."""

    def __init__(self, handler: Handler) -> None:
        self._handler = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        task = asyncio.current_task()
        assert task is not None
        left = False
        watcher: asyncio.Task[None] | None = None

        async def watch() -> None:
            nonlocal left
            while (await receive())["type"] != "http.disconnect":
                pass
            left = True
            task.cancel()

        async def receive_body() -> Message:
            nonlocal watcher
            message = await receive()
            if watcher is None and not message.get("more_body", False):
                watcher = asyncio.create_task(watch())
            return message

        try:
            response = await self._handler(Request(scope, receive_body))
        except asyncio.CancelledError:
            if not left:
                raise
            # The handler finished its exchange as 499; no one is there to answer.
            task.uncancel()
            return
        finally:
            if watcher is not None:
                watcher.cancel()
        await response(scope, receive, send)
