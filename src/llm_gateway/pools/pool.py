"""A pool: the upstreams behind one model name, and which one an attempt goes to.

Every route resolves to a :class:`Pool`; a route with one upstream is a pool of one. The
pool picks an upstream per attempt by its strategy, skipping those already tried for the
request and those resting, and puts an upstream to rest when the retry policy
(:mod:`.retry`) says it failed.

The state here (who rests until when, how many attempts are in flight) belongs to one
worker process. That is enough: an upstream that fails in one worker is found failing by
the others on their next attempt, at the cost of one retried attempt each, and nothing
has to be shared or locked on the request path.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Collection, Sequence

from llm_gateway.config import ModelRoute
from llm_gateway.errors import GatewayError
from llm_gateway.metrics.record import MetricsSink, NullMetrics
from llm_gateway.metrics.snapshot import Credits
from llm_gateway.metrics.upstreams import UpstreamState
from llm_gateway.pools.retry import Rest, Verdict
from llm_gateway.providers.base import Provider

QUOTA_REST_S = 3600.0
"""How long a Kiro account out of credits rests when its reset time is unknown."""


class Upstream:
    """One upstream of a pool: its route, its provider, and how it fares in this process.

    It tells ``metrics`` whenever its state changes (:meth:`report`).
    """

    __slots__ = (
        "_metrics",
        "credits",
        "in_flight",
        "key",
        "label",
        "provider",
        "reads_credits",
        "reread_credits",
        "rest",
        "route",
        "score",
        "until",
    )

    def __init__(
        self, route: ModelRoute, provider: Provider, metrics: MetricsSink | None = None
    ) -> None:
        self.route = route
        self.provider = provider
        self.label = route.label or route.provider
        self.key = f"{route.name}/{self.label}"
        """Names it in the metrics: labels are unique in a pool, model names across pools."""
        self._metrics = metrics or NullMetrics()
        self.in_flight = 0
        self.rest: Rest | None = None
        """Why it last rested; it rests while the clock is before :attr:`until`."""
        self.until = 0.0
        self.reads_credits = False
        self.reread_credits: Callable[[], None] = _nothing
        """Asks for its credits to be read again soon (see :mod:`.credits`)."""
        self.credits: Credits | None = None
        """Its credits as last read (Kiro); ``None`` while unknown."""
        self.score = 0
        """Its running score under the round-robin strategy."""

    def report(self) -> None:
        """Tell the metrics how this upstream fares now."""
        self._metrics.upstream_changed(
            self.key,
            UpstreamState(
                model=self.route.name,
                label=self.label,
                provider=self.route.provider,
                rest=self.rest or "",
                until=self.until,
                reads_credits=self.reads_credits,
                credits=self.credits,
            ),
        )


class Pool:
    """The upstreams behind one route and its strategy; see the module docstring.

    ``clock`` (monotonic) times the rests; ``wall`` reads dates such as a quota's reset.
    """

    def __init__(
        self,
        route: ModelRoute,
        upstreams: Sequence[Upstream],
        *,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.route = route
        self.upstreams = tuple(upstreams)
        retries = route.retries if route.retries is not None else len(self.upstreams) - 1
        self.attempts = 1 + retries
        """The most attempts one request makes."""
        self.fails_over = len(self.upstreams) > 1
        """Whether a failed upstream rests while others serve. A lone upstream never rests:
        with nowhere else to go, each request tries it, as before there were pools."""
        self.clock = clock
        self.wall = wall
        self._choose = _STRATEGIES[route.strategy]

    def pick(self, tried: Collection[Upstream] = ()) -> Upstream | None:
        """The upstream for the next attempt, or ``None`` when every untried one rests."""
        now = self.clock()
        upstreams = self.upstreams
        if len(upstreams) == 1:
            only = upstreams[0]
            return only if now >= only.until and only not in tried else None
        ready = [u for u in upstreams if now >= u.until and u not in tried]
        return self._choose(self, ready) if ready else None

    def rest(self, upstream: Upstream, verdict: Verdict) -> float:
        """Put ``upstream`` to rest after a failure; return for how many seconds."""
        if verdict.retry_after_s is not None:
            seconds = verdict.retry_after_s
        elif verdict.rest == "quota":
            seconds = self._until_reset(upstream) or QUOTA_REST_S
            upstream.reread_credits()
        else:
            seconds = upstream.route.cooldown
        upstream.rest = verdict.rest
        upstream.until = self.clock() + seconds
        upstream.report()
        return seconds

    def credits_read(self, upstream: Upstream, credits: Credits | None) -> None:
        """Note a Kiro account's credits (``None``: the read failed, they are unknown).

        An account resting for its quota then rests until the reset they announce.
        """
        upstream.credits = credits
        if upstream.rest == "quota" and self.clock() < upstream.until:
            seconds = self._until_reset(upstream)
            if seconds is not None:
                upstream.until = self.clock() + seconds
        upstream.report()

    def _until_reset(self, upstream: Upstream) -> float | None:
        resets_at = upstream.credits.resets_at if upstream.credits is not None else None
        wall = self.wall()
        return resets_at - wall if resets_at is not None and resets_at > wall else None

    def all_resting(self) -> GatewayError:
        """The 429 for a request that finds every upstream resting, with when to come back."""
        now = self.clock()
        wait = max(1, math.ceil(min(u.until for u in self.upstreams) - now))
        name = self.route.name
        return GatewayError(
            "upstream",
            429,
            f"All upstreams of model '{name}' are resting; try again in {wait} s",
            retry_after=wait,
        )


def _nothing() -> None:
    return None


def _failover(pool: Pool, ready: list[Upstream]) -> Upstream:
    return ready[0]


def _round_robin(pool: Pool, ready: list[Upstream]) -> Upstream:
    # Smooth weighted round-robin (as nginx does it): exact shares, evenly interleaved.
    total = 0
    best = ready[0]
    for upstream in ready:
        upstream.score += upstream.route.weight
        total += upstream.route.weight
        if upstream.score > best.score:
            best = upstream
    best.score -= total
    return best


def _least_busy(pool: Pool, ready: list[Upstream]) -> Upstream:
    return min(ready, key=lambda u: u.in_flight)


_STRATEGIES: dict[str, Callable[[Pool, list[Upstream]], Upstream]] = {
    "failover": _failover,
    "round-robin": _round_robin,
    "least-busy": _least_busy,
}
