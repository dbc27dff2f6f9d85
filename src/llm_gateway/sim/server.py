"""The simulator over HTTP: ``llm-gateway sim``, an upstream that speaks both APIs.

It serves ``POST /v1/chat/completions`` (OpenAI), ``POST /v1/messages`` (Anthropic),
``POST /v1/responses`` (the OpenAI Responses API), ``POST /v1/messages/count_tokens`` and
``GET /v1/models``, accepts any API key, and sends each plan from
:mod:`llm_gateway.sim.engine` exactly: the wait before the headers, the pieces with their
pauses, and for ``+reset`` a real TCP reset after the first half.

A reset needs the connection itself, which ASGI does not expose; so the server runs a
uvicorn HTTP protocol that hands the app a ``reset`` callable through a scope extension.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import struct
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, cast

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Scope
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from llm_gateway.apis import Api
from llm_gateway.errors import GatewayError, anthropic_error_body, validation_error
from llm_gateway.sim.completion import count_tokens as token_count
from llm_gateway.sim.completion import prompt_text
from llm_gateway.sim.engine import JSON, YIELD_EVERY, Plan, error_plan, plan
from llm_gateway.untrusted import MAX_JSON_DEPTH, too_deep

RESET_EXTENSION = "llm_gateway.sim.reset"
"""Scope extension holding ``{"reset": callable}``: abort this connection with a TCP RST."""

MODEL_ID = "sim"
"""The model ``GET /v1/models`` lists; any model id (with directives) is accepted."""

# How long a stopping server lets in-flight replies (a slow stream, say) finish.
_SHUTDOWN_GRACE_S = 2


def create_app(clock: Callable[[], float] = time.time) -> Starlette:
    """The simulator's ASGI app; ``clock`` gives the Unix time OpenAI replies carry."""
    started = int(clock())

    async def answer(request: Request, api: Api) -> Response:
        reply_plan = _plan_request(api, await request.body(), int(clock()))
        if reply_plan.delay > 0:
            await asyncio.sleep(reply_plan.delay)
        return _render(reply_plan, request.scope)

    async def chat_completions(request: Request) -> Response:
        return await answer(request, "openai")

    async def messages(request: Request) -> Response:
        return await answer(request, "anthropic")

    async def responses(request: Request) -> Response:
        return await answer(request, "responses")

    async def count_tokens(request: Request) -> Response:
        try:
            body = _json_object(await request.body())
            count = token_count(prompt_text("anthropic", body))
        except GatewayError as error:
            return Response(anthropic_error_body(error), error.status, media_type=JSON)
        return Response(orjson.dumps({"input_tokens": count}), media_type=JSON)

    async def models(request: Request) -> Response:
        listing = {
            "object": "list",
            "data": [
                {"id": MODEL_ID, "object": "model", "created": started, "owned_by": "llm-gateway"}
            ],
        }
        return Response(orjson.dumps(listing), media_type=JSON)

    return Starlette(
        routes=[
            Route("/v1/chat/completions", chat_completions, methods=["POST"]),
            Route("/v1/messages", messages, methods=["POST"]),
            Route("/v1/messages/count_tokens", count_tokens, methods=["POST"]),
            Route("/v1/responses", responses, methods=["POST"]),
            Route("/v1/models", models, methods=["GET"]),
        ]
    )


def run(host: str, port: int) -> None:
    """Serve until SIGINT or SIGTERM, then return; ``port`` 0 lets the OS choose.

    Prints ``listening on http://HOST:PORT`` (the real port) once connections are accepted.
    """
    sock = _listen(host, port)
    server = _Server(_config(create_app()))
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, server.handle_exit)
    print(f"listening on {_url(sock)}", flush=True)
    server.run(sockets=[sock])


@contextlib.asynccontextmanager
async def serving(
    host: str = "127.0.0.1", port: int = 0, *, clock: Callable[[], float] = time.time
) -> AsyncIterator[str]:
    """Run the simulator on the running event loop (for tests); yields its base URL."""
    sock = _listen(host, port)
    server = _Server(_config(create_app(clock)))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        yield _url(sock)
    finally:
        server.should_exit = True
        await task


def _plan_request(api: Api, raw: bytes, created: int) -> Plan:
    try:
        body = _json_object(raw)
    except GatewayError as error:
        return error_plan(api, error)
    return plan(api, body, stream=body.get("stream") is True, created=created)


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise validation_error("the request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise validation_error("the request body must be a JSON object")
    if too_deep(raw, body):
        raise validation_error(f"the request body nests deeper than {MAX_JSON_DEPTH} levels")
    return body


def _render(reply_plan: Plan, scope: Scope) -> Response:
    pieces = reply_plan.pieces
    if len(pieces) == 1 and pieces[0].pause == 0 and not reply_plan.reset:
        return Response(pieces[0].data, reply_plan.status, media_type=reply_plan.media_type)
    # A JSON body sent in pieces still announces its full length, so a reset is a short body.
    headers = None if reply_plan.length is None else {"content-length": str(reply_plan.length)}
    return StreamingResponse(
        _play(reply_plan, scope),
        reply_plan.status,
        headers=headers,
        media_type=reply_plan.media_type,
    )


async def _play(reply_plan: Plan, scope: Scope) -> AsyncIterator[bytes]:
    for index, piece in enumerate(reply_plan.pieces, 1):
        if piece.pause > 0:
            await asyncio.sleep(piece.pause)
        elif index % YIELD_EVERY == 0:
            # Writing does not wait for a client that keeps up: let the loop run anyway.
            await asyncio.sleep(0)
        yield piece.data
    if reply_plan.reset:
        reset = cast(Callable[[], None], scope["extensions"][RESET_EXTENSION]["reset"])
        reset()
        # The response must not complete: StreamingResponse ends this stream (cancelling
        # the wait) when the disconnect that the reset causes arrives.
        await asyncio.get_running_loop().create_future()


class _ResettableHttpProtocol(HttpToolsProtocol):
    """uvicorn's HTTP/1.1 protocol, plus the ``reset`` extension in every request's scope."""

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.scope["extensions"] = {RESET_EXTENSION: {"reset": self._reset}}

    def _reset(self) -> None:
        # With a zero linger time, closing sends RST instead of FIN; close() (unlike
        # abort()) first flushes what was written, so the client gets the first half.
        sock = self.transport.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.transport.close()


class _Server(uvicorn.Server):
    """uvicorn's server, leaving the signals to whoever runs it.

    uvicorn installs its handlers only once serving starts and re-raises the stop signal
    after a graceful shutdown, so the process would end killed by it. :func:`run` wants
    the handlers in place before it says it listens, and a clean exit (status 0);
    :func:`serving`, embedded in someone else's process, wants no handlers at all.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _config(app: Starlette) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        http=_ResettableHttpProtocol,
        lifespan="off",
        access_log=False,
        log_level="warning",
        timeout_graceful_shutdown=_SHUTDOWN_GRACE_S,
    )


def _listen(host: str, port: int) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        # Listening now, before uvicorn starts, means a client that reads our "listening
        # on" line can connect at once: the kernel queues it until uvicorn accepts.
        sock.listen(socket.SOMAXCONN)
    except OSError:
        sock.close()
        raise
    return sock


def _url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
