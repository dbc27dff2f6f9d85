"""A mock LLM upstream that adds no delay: the baseline every gateway is measured against.

It speaks just enough HTTP/1.1 (keep-alive, chunked streaming) for ``wrk``, aiohttp,
httpx and the official SDKs, straight on an asyncio protocol with the httptools parser:
no framework, no per-request allocation beyond parsing the JSON body, every reply
pre-encoded once per model name. That keeps it several times faster than any gateway
in front of it, so what a benchmark measures is the gateway, not the mock.

Routes: ``POST /v1/chat/completions``, ``POST /v1/messages``, ``POST /v1/responses``
(each streaming when the body says ``"stream": true``) and ``GET /v1/models``. A streamed
reply sends one piece of text per tick, ``--chunks`` ticks ``--interval`` seconds apart,
the first at once. Requests are answered in order; a client must not pipeline a request
behind a stream.

Run: ``python -m bench.mock_upstream --port 0``; prints ``listening on http://HOST:PORT``.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Callable
from typing import Any, cast

import httptools
import orjson
import uvloop

from bench import replies

WholeReply = Callable[[str], bytes]
StreamReply = Callable[[str, int], list[bytes]]

ROUTES: dict[bytes, tuple[WholeReply, StreamReply]] = {
    b"/v1/chat/completions": (replies.openai_completion, replies.openai_stream),
    b"/v1/messages": (replies.anthropic_message, replies.anthropic_stream),
    b"/v1/responses": (replies.responses_response, replies.responses_stream),
}
MODELS_PATH = b"/v1/models"

_JSON_HEAD = b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n"
_STREAM_HEAD = (
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n"
    b"transfer-encoding: chunked\r\n\r\n"
)
_LAST_CHUNK = b"0\r\n\r\n"


def json_response(body: bytes, status: int = 200, reason: bytes = b"OK") -> bytes:
    return _JSON_HEAD % (status, reason, len(body)) + body


def _error(status: int, reason: bytes, message: str) -> bytes:
    body = orjson.dumps({"error": {"type": "invalid_request_error", "message": message}})
    return json_response(body, status, reason)


def chunked(ticks: list[bytes]) -> list[bytes]:
    """Frame each tick as one HTTP chunk; the stream's head rides with the first."""
    framed = [b"%x\r\n%s\r\n" % (len(tick), tick) for tick in ticks]
    framed[0] = _STREAM_HEAD + framed[0]
    framed[-1] += _LAST_CHUNK
    return framed


class ReplyCache:
    """Every reply the mock sends, encoded on first use and reused for the same model."""

    def __init__(self, chunks: int) -> None:
        self.chunks = chunks
        self._whole: dict[tuple[bytes, str], bytes] = {}
        self._streams: dict[tuple[bytes, str], list[bytes]] = {}
        self._models: dict[str, None] = {}

    def whole(self, path: bytes, model: str) -> bytes:
        key = (path, model)
        reply = self._whole.get(key)
        if reply is None:
            self._models[model] = None
            reply = self._whole[key] = json_response(ROUTES[path][0](model))
        return reply

    def stream(self, path: bytes, model: str) -> list[bytes]:
        key = (path, model)
        ticks = self._streams.get(key)
        if ticks is None:
            self._models[model] = None
            ticks = self._streams[key] = chunked(ROUTES[path][1](model, self.chunks))
        return ticks

    def models(self) -> bytes:
        return json_response(replies.models_list(list(self._models) or ["mock"]))


class MockConnection(asyncio.Protocol):
    """One client connection: parse requests with httptools, answer each from the cache."""

    def __init__(self, cache: ReplyCache, interval: float) -> None:
        self._cache = cache
        self._interval = interval
        self._transport: asyncio.Transport | None = None
        self._parser = httptools.HttpRequestParser(self)
        self._url = b""
        self._body = bytearray()
        self._timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        if self._timer is not None:
            self._timer.cancel()

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError:
            self._send(_error(400, b"Bad Request", "malformed HTTP request"), keep_alive=False)

    # httptools callbacks
    def on_message_begin(self) -> None:
        self._url = b""
        self._body.clear()

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_body(self, body: bytes) -> None:
        self._body += body

    def on_message_complete(self) -> None:
        keep_alive = bool(self._parser.should_keep_alive())
        path = self._url.partition(b"?")[0]
        method = self._parser.get_method()
        if method == b"GET" and path == MODELS_PATH:
            self._send(self._cache.models(), keep_alive)
        elif method == b"POST" and path in ROUTES:
            self._answer(path, keep_alive)
        else:
            print(f"mock: no route for {method.decode()} {path.decode()}", file=sys.stderr)
            self._send(_error(404, b"Not Found", "no such route"), keep_alive)

    def _answer(self, path: bytes, keep_alive: bool) -> None:
        try:
            request: Any = orjson.loads(self._body)
            model = request["model"]
            stream = request.get("stream") is True
            if not isinstance(model, str):
                raise TypeError
        except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError):
            self._send(_error(400, b"Bad Request", "body must be JSON with a model"), keep_alive)
            return
        if stream:
            start = asyncio.get_running_loop().time()
            self._stream(self._cache.stream(path, model), 0, keep_alive, start)
        else:
            self._send(self._cache.whole(path, model), keep_alive)

    def _send(self, data: bytes, keep_alive: bool) -> None:
        if self._transport is None:
            return
        self._transport.write(data)
        if not keep_alive:
            self._transport.close()

    def _stream(self, ticks: list[bytes], index: int, keep_alive: bool, start: float) -> None:
        # Ticks are due at fixed offsets from the start, so timer lateness never accumulates.
        self._timer = None
        last = index == len(ticks) - 1
        self._send(ticks[index], keep_alive or not last)
        if not last and self._transport is not None:
            due = start + (index + 1) * self._interval
            self._timer = asyncio.get_running_loop().call_at(
                due, self._stream, ticks, index + 1, keep_alive, start
            )


async def serve(host: str, port: int, chunks: int, interval: float) -> None:
    """Serve until SIGINT or SIGTERM, after printing the ``listening on`` line."""
    loop = asyncio.get_running_loop()
    cache = ReplyCache(chunks)
    server = await loop.create_server(
        lambda: MockConnection(cache, interval), host, port, backlog=1024
    )
    bound_host, bound_port = server.sockets[0].getsockname()[:2]
    print(f"listening on http://{bound_host}:{bound_port}", flush=True)
    stopped = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopped.set)
    async with server:
        await stopped.wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.mock_upstream", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--chunks", type=int, default=64, help="text pieces per streamed reply")
    parser.add_argument("--interval", type=float, default=0.02, help="seconds between pieces")
    args = parser.parse_args(argv)
    if args.chunks < 1:
        parser.error("--chunks must be at least 1")
    uvloop.run(serve(args.host, args.port, args.chunks, args.interval))


if __name__ == "__main__":
    main()
