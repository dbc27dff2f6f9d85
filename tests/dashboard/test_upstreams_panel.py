"""The Upstreams panel over figures counted by the real request bookkeeping.

Requests go through real :class:`Exchange` and :class:`Pool` objects into a worker's
:class:`IntervalRecorder`, then the supervisor's :class:`Aggregator`, as in the gateway:
the panel must show each upstream's attempts exactly, and the models table each request
once.
"""

from __future__ import annotations

from datetime import UTC

from llm_gateway.config import ModelRoute
from llm_gateway.dashboard.app import DashboardApp
from llm_gateway.dashboard.models_table import ModelsTable
from llm_gateway.dashboard.upstreams_panel import UpstreamsTable
from llm_gateway.frontends.exchange import Exchange
from llm_gateway.metrics.aggregator import Aggregator
from llm_gateway.metrics.interval import IntervalRecorder
from llm_gateway.metrics.snapshot import Credits
from llm_gateway.pools import Pool, Upstream
from llm_gateway.pools.retry import Verdict
from llm_gateway.providers.sim import SimProvider
from tests.dashboard.fakes import RESET, FakeFeed


class Clock:
    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


def serve(pool: Pool, recorder: IntervalRecorder, clock: Clock, *, first_fails: bool) -> None:
    """One request through the pool, as the pipeline makes it: a failed attempt, then one."""
    exchange = Exchange(recorder, clock, "POST", "/v1/messages", "anthropic")
    exchange.model = pool.route.name
    upstream = pool.pick()
    assert upstream is not None
    exchange.attempt(upstream)
    clock.now += 0.01
    if first_fails:
        exchange.attempt_failed()
        pool.rest(upstream, Verdict("quota"))
        upstream = pool.pick([upstream])
        assert upstream is not None
        exchange.attempt(upstream)
        clock.now += 0.2
    exchange.finish(200)


async def test_attempts_per_upstream_and_requests_once_are_exact() -> None:
    clock = Clock()
    aggregator = Aggregator(clock=clock)
    members = tuple(
        ModelRoute(name="claude", provider="kiro", label=label) for label in ("kiro-a", "kiro-b")
    )
    for worker in (1, 2):
        recorder = IntervalRecorder(clock=clock)
        route = ModelRoute(name="claude", provider="kiro", upstreams=members)
        upstreams = [Upstream(m, SimProvider(m), recorder) for m in members]
        pool = Pool(route, upstreams, clock=clock, wall=lambda: RESET - 86400)
        for upstream in upstreams:
            upstream.reads_credits = True
            upstream.report()
        pool.credits_read(upstreams[0], Credits(1000.0, 1000.0, RESET))
        serve(pool, recorder, clock, first_fails=True)
        for _ in range(3):
            serve(pool, recorder, clock, first_fails=False)
        aggregator.worker_joined(worker)
        aggregator.merge(worker, recorder.take())

    app = DashboardApp(FakeFeed(snapshot_value=aggregator.snapshot()), tz=UTC, refresh_s=3600)
    async with app.run_test(size=(200, 60)) as pilot:
        app.refresh_figures()
        await pilot.pause()
        rows = [[cell.plain for cell in row] for row in app.query_one(UpstreamsTable).rows]
        models = app.query_one(ModelsTable).row("claude")
    a, b = rows
    assert a[1:6] == ["kiro-a", "kiro", "quota until Dec 1", "2", "2"]
    assert a[-1] == "1,000/1,000 · Dec 1"
    assert b[1:6] == ["kiro-b", "kiro", "ok", "8", "0"]
    assert b[-1] == "unknown"  # never read: unknown, not zero
    assert [models[1].plain, models[2].plain] == ["8", "0"]  # 8 requests, none failed
