"""An OpenAI-shaped upstream that misbehaves on request, on 127.0.0.1.

The model name says how (the gateway forwards it unchanged):

- ``huge-N``: a valid non-streamed reply of N bytes, its length announced;
- ``chunked-N``: the same without a ``Content-Length`` (chunked, 64 KiB at a time);
- ``bigevent-N``: a stream whose second event never ends: N bytes at first, in one write
  after the first event, then more until the client leaves (so only the gateway's
  limit, never the end of the stream, can end it, however the bytes are read);
- ``silent``: never answers (until the client leaves);
- ``stall``: streams two chunks, then nothing;
- ``endless``: streams a chunk every 10 ms, forever;
- ``garbage``: answers 200 with bytes that are not JSON (or not SSE, streamed);
- ``leaky-KEY``: a 401 whose message quotes the key it was sent, as some upstreams do;
- anything else: a small, correct reply.

A leading ``bad-`` is ignored, so that a gateway route ``bad-*`` can lead here.

It runs on its own thread and loop, so synchronous tests can drive a gateway subprocess
against it; ``python -m tests.fakes.hostile_upstream --port 0`` runs it as a process (the
soak in ``bench/`` does). :attr:`HostileUpstream.open` counts requests being answered now,
so a test can see that the gateway really let go of an abandoned one.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import threading
from typing import Any

import orjson
from aiohttp import web

_CHUNK = (
    b'data: {"id":"c","object":"chat.completion.chunk","created":0,"model":"m",'
    b'"choices":[{"index":0,"delta":{"content":"a"},"finish_reason":null}]}\n\n'
)


def completion(model: str, content: str = "ok") -> dict[str, Any]:
    return {
        "id": "c",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def _padded(model: str, size: int) -> bytes:
    """A valid completion of exactly ``size`` bytes (or a little more, if tiny)."""
    empty = orjson.dumps(completion(model, ""))
    return orjson.dumps(completion(model, "x" * max(0, size - len(empty))))


class HostileUpstream:
    def __init__(self) -> None:
        self.open = 0
        """Requests being answered right now."""
        self.url = ""
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        self.open += 1
        try:
            return await self._misbehave(request)
        finally:
            self.open -= 1

    async def _misbehave(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        model = str(body.get("model"))
        kind, _, arg = model.removeprefix("bad-").partition("-")
        stream = body.get("stream") is True
        if kind == "huge":
            return web.Response(body=_padded(model, int(arg)), content_type="application/json")
        if kind == "leaky":
            key = request.headers.get("authorization", "").removeprefix("Bearer ")
            error = {"error": {"message": f"Incorrect API key provided: {key}", "type": "x"}}
            return web.json_response(error, status=401)
        if kind == "silent":
            await asyncio.Event().wait()
        response = web.StreamResponse(
            headers={"content-type": "text/event-stream" if stream else "application/json"}
        )
        response.enable_chunked_encoding()
        await response.prepare(request)
        if kind == "chunked":
            data = _padded(model, int(arg))
            for start in range(0, len(data), 65536):
                await response.write(data[start : start + 65536])
        elif kind == "bigevent":
            await response.write(_CHUNK + b"data: " + b"x" * int(arg))
            while True:
                await response.write(b"x" * 65536)
                await asyncio.sleep(0.01)
        elif kind == "stall":
            await response.write(_CHUNK * 2)
            await asyncio.Event().wait()
        elif kind == "endless":
            while True:
                await response.write(_CHUNK)
                await asyncio.sleep(0.01)
        elif kind == "garbage":
            await response.write(b"data: {not json\n\n" if stream else b"<html>oops")
        elif stream:
            await response.write(_CHUNK + b"data: [DONE]\n\n")
        else:
            await response.write(orjson.dumps(completion(model)))
        await response.write_eof()
        return response

    async def _start(self, port: int) -> None:
        app = web.Application(client_max_size=1 << 24)
        app.router.add_post("/v1/chat/completions", self._answer)
        self._runner = web.AppRunner(app, handler_cancellation=True, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", port).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    def __enter__(self) -> HostileUpstream:
        threading.Thread(target=self._loop.run_forever, daemon=True).start()
        asyncio.run_coroutine_threadsafe(self._start(0), self._loop).result(10)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._runner is not None
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)

    def run(self, port: int) -> None:
        """Serve on this thread until SIGINT or SIGTERM (``port`` 0 lets the OS choose)."""
        loop = self._loop
        loop.run_until_complete(self._start(port))
        print(f"listening on {self.url}", flush=True)
        loop.add_signal_handler(signal.SIGTERM, loop.stop)
        with contextlib.suppress(KeyboardInterrupt):
            loop.run_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    HostileUpstream().run(parser.parse_args().port)


if __name__ == "__main__":
    main()
