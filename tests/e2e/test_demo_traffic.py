"""The demo traffic generator against a real gateway: every model, every error type it can cause."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import AsyncIterator

import pytest

from llm_gateway.app import create_app
from llm_gateway.config import ClientKey, GatewayConfig
from llm_gateway.demo import (
    DEMO_API_KEY,
    DEMO_CLIENTS,
    DEMO_MODELS,
    clients_for,
    demo_config,
    run_demo_traffic,
)
from llm_gateway.metrics.inflight import OpenRequest
from llm_gateway.metrics.record import NullMetrics, RequestRecord
from tests.dashboard.polling import until
from tests.in_process import serving


class Recorder(NullMetrics):
    """A metrics sink that keeps every finished request."""

    def __init__(self) -> None:
        self.records: list[RequestRecord] = []

    def request_finished(self, request: OpenRequest, record: RequestRecord) -> None:
        self.records.append(record)


@pytest.fixture
async def gateway() -> AsyncIterator[tuple[str, Recorder]]:
    recorder = Recorder()
    async with serving(create_app(demo_config(), recorder)) as base_url:
        yield base_url, recorder


async def test_demo_traffic_covers_models_and_error_types_and_stops_promptly(
    gateway: tuple[str, Recorder],
) -> None:
    base_url, recorder = gateway
    stop = asyncio.Event()
    demo = asyncio.create_task(
        run_demo_traffic(
            base_url, stop, rate_per_s=400, burst_every_s=0.2, burst_size=10, rng=random.Random(4)
        )
    )

    def error_types() -> set[str | None]:
        return {record.error_type for record in recorder.records}

    await until(lambda: {"auth", "validation", "upstream", "timeout"} <= error_types(), within=15)
    stop.set()
    # Stalled requests are still in flight; stopping cancels them instead of waiting.
    await asyncio.wait_for(demo, 1.0)

    successes = Counter(record.model for record in recorder.records if record.error_type is None)
    assert set(DEMO_MODELS) <= set(successes)
    assert "internal" not in error_types()
    assert sum(successes.values()) > len(recorder.records) / 2
    # The demo's keys are named; the wrong key's requests count as unauthenticated.
    clients = {client.label for client in DEMO_CLIENTS} | {"(unauthenticated)"}
    assert {record.client for record in recorder.records} == clients


def test_demo_clients_are_those_a_config_lets_in() -> None:
    alice, ci_bot, demo = DEMO_CLIENTS
    assert clients_for(demo_config()) == DEMO_CLIENTS
    assert clients_for(GatewayConfig(models=())) == DEMO_CLIENTS
    own = GatewayConfig(models=(), api_keys=("sk-mine", DEMO_API_KEY))
    assert clients_for(own) == (demo,)
    named = GatewayConfig(models=(), keys=(ClientKey("a", alice.key), ClientKey("c", ci_bot.key)))
    assert clients_for(named) == (alice, ci_bot)
    # None of the demo keys is let in: send the documented one, refused, rather than nothing.
    assert clients_for(GatewayConfig(models=(), api_keys=("sk-mine",))) == (demo,)
