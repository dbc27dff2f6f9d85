"""A worker that stops (SIGSTOP) is noticed, shown as stalled, and restarted past the limit."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal

import pytest

from llm_gateway.config import GatewayConfig, ModelRoute
from llm_gateway.server import bind_socket
from llm_gateway.supervisor import ServeOptions, Supervisor
from tests.integration.test_workers import until


async def test_a_stopped_worker_is_stalled_then_restarted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, "llm_gateway.supervisor")
    config = GatewayConfig(models=(ModelRoute(name="*", provider="sim"),))
    options = ServeOptions(
        config=config, workers=1, grace_period_s=2, stall_after_s=1, restart_stalled_after_s=4
    )
    listener = bind_socket("127.0.0.1", 0)
    supervisor = Supervisor(options, listener)
    running = asyncio.create_task(supervisor.run())
    stopped: list[int] = []
    try:
        await until(lambda: supervisor.serving.is_set() or running.done(), "the worker serves")
        (pid,) = supervisor.worker_pids()

        os.kill(pid, signal.SIGSTOP)
        stopped.append(pid)
        await until(lambda: supervisor.snapshot().stalled_workers == (1,), "worker 1 stalled")
        os.kill(pid, signal.SIGCONT)
        stopped.remove(pid)
        await until(lambda: supervisor.snapshot().stalled_workers == (), "worker 1 recovered")

        os.kill(pid, signal.SIGSTOP)
        stopped.append(pid)
        await until(lambda: supervisor.worker_pids() not in ([], [pid]), "a new worker", 20)
        await until(lambda: supervisor.snapshot().stalled_workers == (), "nothing stalled")
        logs = caplog.text
        assert "worker 1 has sent no report for" in logs
        assert "worker 1 reports again after" in logs
        assert "worker 1 has been silent for" in logs
    finally:
        for pid in stopped:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
        supervisor.stop()
        assert await asyncio.wait_for(running, 30) == 0
        listener.close()
