"""The upstream connection cap: requests beyond it wait, counted and listed as waiting, and are
served in turn."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import openai
import pytest

from llm_gateway.app import create_app
from llm_gateway.config import load_config
from llm_gateway.metrics.interval import IntervalRecorder
from tests.dashboard.polling import until
from tests.in_process import serving
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
    async with serving(create_app(load_config(path), recorder)) as base_url:
        yield base_url, recorder


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

    def one_waiting_behind_the_streams() -> bool:
        # The one waiting for a connection is listed in flight as waiting, too.
        interval = recorder.take()
        states = sorted(request.state for request in interval.in_flight)
        return interval.waiting == 1 and states == ["streaming"] * CAP + ["waiting"]

    streams = [asyncio.create_task(stream()) for _ in range(CAP + 1)]
    await until(one_waiting_behind_the_streams, what="one request waiting", within=10)

    assert await asyncio.gather(*streams) == ["stop"] * (CAP + 1)
    assert recorder.take().waiting == 0
    await client.close()
