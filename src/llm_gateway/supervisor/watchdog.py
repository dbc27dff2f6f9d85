"""Noticing a worker that has stopped reporting: stopped (SIGSTOP), hung, or stuck in a loop.

A worker reports every 250 ms from its event loop, so a silence of seconds means that loop
is not running: every request it holds is frozen with it. :class:`Watchdog` calls such a
worker *stalled* after ``stall_after_s`` (logged, and shown on the dashboard) and asks for
it to be killed after ``restart_after_s``, so that the supervisor starts a fresh one.

The supervisor itself may be late: at idle CPU priority on a saturated machine it reads
reports seconds after they were sent. A check that comes much later than asked therefore
blames no one: it starts every worker's silence afresh.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

logger = logging.getLogger("llm_gateway.supervisor")

CHECK_INTERVAL_S = 0.5


class Watchdog:
    def __init__(
        self,
        stall_after_s: float,
        restart_after_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stall_after_s = stall_after_s
        self._restart_after_s = restart_after_s
        self._clock = clock
        self._heard: dict[int, float] = {}
        """When each watched worker last reported."""
        self._stalled: set[int] = set()
        self._checked = clock()

    @property
    def stalled(self) -> tuple[int, ...]:
        return tuple(sorted(self._stalled))

    def heard_from(self, worker: int) -> None:
        now = self._clock()
        if worker in self._stalled:
            self._stalled.discard(worker)
            logger.warning(
                "worker %d reports again after %.1f s of silence", worker, now - self._heard[worker]
            )
        self._heard[worker] = now

    def forget(self, worker: int) -> None:
        self._heard.pop(worker, None)
        self._stalled.discard(worker)

    def check(self) -> list[int]:
        """Log the workers that just stalled; the ones to kill, silent past the limit."""
        now = self._clock()
        late = now - self._checked > 2 * CHECK_INTERVAL_S
        self._checked = now
        if late:
            # We were not running: what looks like their silence may be our own.
            for worker in self._heard:
                self._heard[worker] = max(self._heard[worker], now - CHECK_INTERVAL_S)
            return []
        doomed = []
        for worker, heard in self._heard.items():
            silent = now - heard
            if silent >= self._restart_after_s:
                logger.error(
                    "worker %d has been silent for %.1f s (the limit is %g s): restarting it",
                    worker,
                    silent,
                    self._restart_after_s,
                )
                doomed.append(worker)
            elif silent >= self._stall_after_s and worker not in self._stalled:
                self._stalled.add(worker)
                logger.warning(
                    "worker %d has sent no report for %.1f s: stalled (restarted after %g s)",
                    worker,
                    silent,
                    self._restart_after_s,
                )
        for worker in doomed:
            self.forget(worker)
        return doomed
