"""The running gateway's shared state: config, routes, the one upstream client session."""

from __future__ import annotations

import time
from collections.abc import Callable

import aiohttp
from starlette.requests import Request

from llm_gateway.apis import Api
from llm_gateway.auth import ApiKeys
from llm_gateway.config import GatewayConfig
from llm_gateway.frontends.exchange import Exchange
from llm_gateway.metrics.record import MetricsSink
from llm_gateway.pools import Pool, Upstream
from llm_gateway.pools.credits import CreditsWatch
from llm_gateway.providers.base import ReadsCredits
from llm_gateway.providers.connector import UpstreamConnector
from llm_gateway.providers.registry import build_provider
from llm_gateway.routing import Router


class Gateway:
    """Owns what lives as long as the server: built by the app, started by its lifespan.

    There is exactly one pooled :class:`aiohttp.ClientSession` per process, so upstream
    connections are reused across requests instead of opened per request.

    ``clock`` times each request: monotonic, the clock the metrics stamp their reports
    with, so a request's start gives its age in the list of requests in flight.
    """

    def __init__(
        self,
        config: GatewayConfig,
        metrics: MetricsSink,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.metrics = metrics
        self.clock = clock
        self.api_keys = ApiKeys(config.client_keys)
        self._router: Router | None = None
        self._session: aiohttp.ClientSession | None = None
        self._watches: list[CreditsWatch] = []

    @property
    def router(self) -> Router:
        if self._router is None:
            raise RuntimeError("the gateway has not been started (its app's lifespan did not run)")
        return self._router

    def exchange(self, request: Request, api: Api) -> Exchange:
        """The bookkeeping of ``request``, made to the endpoint of ``api``."""
        scope = request.scope
        return Exchange(self.metrics, self.clock, scope["method"], scope["path"], api)

    async def start(self) -> None:
        connector = UpstreamConnector(
            self.metrics, limit=self.config.max_upstream_connections, keepalive_timeout=30
        )
        self._session = aiohttp.ClientSession(connector=connector)
        session = self._session
        pools = []
        for route in self.config.models:
            members = route.members()
            pooled = len(members) > 1
            upstreams = [
                Upstream(m, build_provider(m, session, pooled=pooled), self.metrics)
                for m in members
            ]
            pools.append(Pool(route, upstreams))
        self._router = Router(pools)
        for pool in pools:
            for upstream in pool.upstreams:
                if isinstance(upstream.provider, ReadsCredits):
                    self._watches.append(CreditsWatch(pool, upstream, upstream.provider))
                upstream.report()
        for watch in self._watches:
            watch.start()

    async def stop(self) -> None:
        for watch in self._watches:
            await watch.stop()
        if self._router is not None:
            for upstream in self._router.upstreams:
                await upstream.provider.aclose()
        if self._session is not None:
            await self._session.close()
