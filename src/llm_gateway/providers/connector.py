"""The worker's upstream connection pool, which says when a request waits for a connection.

aiohttp's :class:`~aiohttp.TCPConnector` caps the connections a session holds at once
(``limit``) and queues every request beyond the cap until one is released. A stream holds
its connection until its last chunk, so past the cap new requests would wait silently,
for minutes behind agents' long streams. :class:`UpstreamConnector` tells the metrics
each time a request starts and stops waiting, so the dashboard shows the queue; the cap
itself is ``max_upstream_connections`` in the config.

The hook is aiohttp's own wait (``_wait_for_available_connection``): it runs only when
the pool is full, so a request that gets a connection at once pays nothing. It is a
private method; ``tests/integration/test_upstream_connections.py`` fills a real pool and
fails if a new aiohttp stops calling it.
"""

from __future__ import annotations

from typing import Any

import aiohttp

from llm_gateway.metrics.record import MetricsSink


class UpstreamConnector(aiohttp.TCPConnector):
    def __init__(self, metrics: MetricsSink, *, limit: int, keepalive_timeout: float) -> None:
        # No per-host cap: every route may use the whole pool.
        super().__init__(limit=limit, limit_per_host=0, keepalive_timeout=keepalive_timeout)
        self._metrics = metrics

    async def _wait_for_available_connection(self, *args: Any, **kwargs: Any) -> None:
        self._metrics.connection_wait_started()
        try:
            await super()._wait_for_available_connection(*args, **kwargs)
        finally:
            self._metrics.connection_wait_finished()
