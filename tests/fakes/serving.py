"""Serve an aiohttp app on 127.0.0.1 from its own thread and event loop, for the fakes.

A fake upstream in its own thread answers both async unit tests and tests that drive a
gateway subprocess with the synchronous SDKs. The port is the OS's choice.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Received:
    """A request a fake recorded."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class Served:
    base_url: str = ""
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when the block ends; a handler that must hang until then awaits it."""


@contextmanager
def serving(app: web.Application, name: str) -> Iterator[Served]:
    """Serve ``app`` for the ``with`` block; ``name`` names the thread and the failure."""
    served = Served()
    started = threading.Event()
    loop = asyncio.new_event_loop()
    failure: list[BaseException] = []

    async def serve() -> None:
        runner = web.AppRunner(app, shutdown_timeout=1.0)
        await runner.setup()
        try:
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            host, port = runner.addresses[0][:2]
            served.base_url = f"http://{host}:{port}"
            started.set()
            await served.stopping.wait()
        finally:
            await runner.cleanup()

    def run() -> None:
        try:
            loop.run_until_complete(serve())
        except BaseException as exc:
            failure.append(exc)
            started.set()
        finally:
            loop.close()

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    started.wait(10)
    if failure or not served.base_url:
        raise RuntimeError(f"{name} did not start") from (failure[0] if failure else None)
    try:
        yield served
    finally:
        loop.call_soon_threadsafe(served.stopping.set)
        thread.join(10)
