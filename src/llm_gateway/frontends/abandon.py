"""Cancel a request whose client left before its answer began.

A non-streamed request can wait minutes on a slow upstream. Without this, a client that
gives up leaves that wait running, its upstream connection held, until the upstream
answers to no one; enough of them fill the upstream pool and every later request hangs.

:class:`CancelWhenAbandoned` watches the connection once the request body has been read
(the endpoint reads it through the same ``receive``, so watching any earlier would take
its messages) until the response starts, and cancels the endpoint's task when the client
hangs up. The endpoint then finishes its exchange as 499 and the provider's reply is
closed on the way out, which drops the upstream connection at once. Once the response has
started, its own class takes over: :class:`~llm_gateway.frontends.replies.EventStream`
watches a stream the same way.
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class CancelWhenAbandoned:
    """ASGI middleware: see the module docstring."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        task = asyncio.current_task()
        assert task is not None
        body_read = asyncio.Event()
        left = False

        async def receive_body() -> Message:
            message = await receive()
            if not message.get("more_body", False):
                body_read.set()
            return message

        async def watch() -> None:
            nonlocal left
            await body_read.wait()
            while (await receive())["type"] != "http.disconnect":
                pass
            left = True
            task.cancel()

        watcher = asyncio.create_task(watch())

        async def send_answer(message: Message) -> None:
            if message["type"] == "http.response.start":
                watcher.cancel()
            await send(message)

        try:
            await self.app(scope, receive_body, send_answer)
        except asyncio.CancelledError:
            if not left:
                raise
            task.uncancel()
        finally:
            watcher.cancel()
