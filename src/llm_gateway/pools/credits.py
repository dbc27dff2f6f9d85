"""Keeping a Kiro account's credits current, off the request path.

A :class:`CreditsWatch` reads one account's credits when the gateway starts, every five
minutes, and soon after the account answers a 402 (its quota spent), in a task of its
own: no request ever waits for it. A failed read leaves the credits unknown (``None``),
never zero, and is logged without anything the answer said about the account.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from llm_gateway.errors import GatewayError
from llm_gateway.metrics.snapshot import Credits
from llm_gateway.pools.pool import Pool, Upstream
from llm_gateway.providers.base import ReadsCredits

READ_EVERY_S = 300.0

logger = logging.getLogger("llm_gateway.pools")


class CreditsWatch:
    """Reads ``upstream``'s credits through ``reader`` and hands them to its ``pool``."""

    def __init__(
        self, pool: Pool, upstream: Upstream, reader: ReadsCredits, every_s: float = READ_EVERY_S
    ) -> None:
        self._pool = pool
        self._upstream = upstream
        self._reader = reader
        self._every_s = every_s
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        upstream.reads_credits = True
        upstream.reread_credits = self._wake.set

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"credits {self._upstream.key}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            self._pool.credits_read(self._upstream, await self._read())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._every_s)
            self._wake.clear()

    async def _read(self) -> Credits | None:
        label = self._upstream.label
        try:
            credits = await self._reader.read_credits()
        except GatewayError as error:
            logger.warning("upstream=%s: cannot read its credits (%s)", label, error.message)
            return None
        logger.debug("upstream=%s: %g of %g credits used", label, credits.used, credits.limit)
        return credits
