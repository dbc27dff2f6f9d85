from __future__ import annotations

import logging

import pytest

from llm_gateway.supervisor.watchdog import CHECK_INTERVAL_S, Watchdog


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def run_for(watchdog: Watchdog, clock: Clock, seconds: float) -> list[int]:
    """Check on time for ``seconds``; every worker it asked to kill."""
    doomed = []
    for _ in range(round(seconds / CHECK_INTERVAL_S)):
        clock.now += CHECK_INTERVAL_S
        doomed += watchdog.check()
    return doomed


def test_a_silent_worker_is_stalled_then_restarted(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    watchdog = Watchdog(stall_after_s=3, restart_after_s=10, clock=clock)
    watchdog.heard_from(1)
    watchdog.heard_from(2)
    caplog.set_level(logging.INFO)
    for _ in range(8):
        assert run_for(watchdog, clock, 0.5) == []
        watchdog.heard_from(2)
    assert watchdog.stalled == (1,)
    assert "worker 1 has sent no report for 3.0 s: stalled" in caplog.text
    assert run_for(watchdog, clock, 6) == [1]
    assert "worker 1 has been silent for 10.0 s" in caplog.text
    # Worker 1 is forgotten until its replacement reports; worker 2 went quiet meanwhile.
    assert watchdog.stalled == (2,)


def test_a_worker_that_speaks_again_is_no_longer_stalled(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    watchdog = Watchdog(stall_after_s=3, restart_after_s=10, clock=clock)
    watchdog.heard_from(1)
    run_for(watchdog, clock, 5)
    assert watchdog.stalled == (1,)
    watchdog.heard_from(1)
    assert not watchdog.stalled
    assert "worker 1 reports again after 5.0 s of silence" in caplog.text
    assert run_for(watchdog, clock, 2) == []


def test_a_late_check_blames_no_worker() -> None:
    """The supervisor itself did not run (a saturated machine): the silence may be its own."""
    clock = Clock()
    watchdog = Watchdog(stall_after_s=3, restart_after_s=10, clock=clock)
    watchdog.heard_from(1)
    clock.now += 20
    assert watchdog.check() == []
    assert run_for(watchdog, clock, 2) == []
    assert not watchdog.stalled
