"""A client that goes away mid-stream cancels the upstream request at once."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from aiohttp import web

from tests.processes import RunningServer, running


class EndlessUpstream:
    """An OpenAI-shaped upstream that streams a chunk every 20 ms until its client leaves,
    and notes when it saw that happen."""

    def __init__(self) -> None:
        self.closed = threading.Event()
        self.started = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        self.started.set()
        chunk = b'data: {"id":"x","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"a"}}]}\n\n'
        try:
            while True:
                await response.write(chunk)
                await asyncio.sleep(0.02)
        except (ConnectionResetError, asyncio.CancelledError):
            self.closed.set()
            raise

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._stream)
        self._runner = web.AppRunner(app, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    def __enter__(self) -> EndlessUpstream:
        threading.Thread(target=self._loop.run_forever, daemon=True).start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._runner is not None
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)


@pytest.fixture
def endless() -> Iterator[EndlessUpstream]:
    with EndlessUpstream() as upstream:
        yield upstream


def test_client_disconnect_cancels_upstream(endless: EndlessUpstream, tmp_path: Path) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text(
        f'[[models]]\nname = "endless"\nprovider = "openai"\nbase_url = "{endless.url}/v1"\n'
    )
    gateway: RunningServer
    with running(["serve", "--config", str(config), "--port", "0"]) as gateway:
        body = {"model": "endless", "messages": [{"role": "user", "content": "x"}], "stream": True}
        with httpx.stream(
            "POST", gateway.base_url + "/v1/chat/completions", json=body, timeout=10
        ) as response:
            assert response.status_code == 200
            lines = response.iter_lines()
            assert next(lines).startswith("data: ")
            assert endless.started.is_set()
        # Leaving the block closed the client's connection; the endless upstream would
        # never stop by itself, so seeing it closed proves the gateway cancelled it.
        assert endless.closed.wait(5), "the upstream request was not cancelled"
        line = gateway.wait_for_output("model=endless status=")
        assert "status=499" in line
