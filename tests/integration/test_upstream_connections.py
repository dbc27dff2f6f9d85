"""The upstream connection cap: requests beyond it wait, counted, and are served in turn."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import openai
import pytest
import uvicorn

from llm_gateway.app import create_app
from llm_gateway.config import load_config
from llm_gateway.metrics.interval import IntervalRecorder
from tests.dashboard.polling import until
from tests.integration.conftest import API_KEY, gateway_config
from tests.processes import RunningServer

CAP = 2


@pytest.fixture
async def capped_gateway(
    sim_server: RunningServer, tmp_path: Path
) -> AsyncIterator[tuple[str, IntervalRecorder]]:
    path = tmp_path / "gateway.toml"
    path.write_text(f"max_upstream_connections = {CAP}\n" + gateway_config(sim_server.base_url))
    recorder = IntervalRecorder()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    host, port = sock.getsockname()
    app = create_app(load_config(path), recorder)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        await until(lambda: server.started, what="the gateway to start")
        yield f"http://{host}:{port}", recorder
    finally:
        server.should_exit = True
        await asyncio.wait_for(serving, 10)
        sock.close()


async def test_requests_beyond_the_cap_are_counted_while_they_wait_and_then_served(
    capped_gateway: tuple[str, IntervalRecorder],
) -> None:
    base_url, recorder = capped_gateway
    client = openai.AsyncOpenAI(base_url=f"{base_url}/v1", api_key=API_KEY, max_retries=0)

    async def stream() -> str | None:
        chunks = await client.chat.completions.create(
            model="oa-cap+tokens=20+tps=20",
            messages=[{"role": "user", "content": "hi"}],
            stream=True,
        )
        finish = None
        async for chunk in chunks:
            finish = chunk.choices[0].finish_reason if chunk.choices else finish
        return finish

    streams = [asyncio.create_task(stream()) for _ in range(CAP + 1)]
    await until(lambda: recorder.take().waiting == 1, what="one request waiting", within=10)

    assert await asyncio.gather(*streams) == ["stop"] * (CAP + 1)
    assert recorder.take().waiting == 0
    await client.close()
