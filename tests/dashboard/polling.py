"""Wait for a condition by polling it against a deadline, never by sleeping a fixed time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


async def until(condition: Callable[[], bool], *, within: float = 5.0, what: str = "") -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        await asyncio.sleep(0.005)


def reaches(measure: Callable[[], int], target: int) -> Callable[[], bool]:
    """A condition: ``measure()`` has reached ``target``."""
    return lambda: measure() >= target
