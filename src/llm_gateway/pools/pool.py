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
from llm_gateway.pools.retry import Rest, Verdict
from llm_gateway.providers.base import Provider

QUOTA_REST_S = 3600.0
"""How long a Kiro account out of credits rests when its reset time is unknown."""


class Upstream:
    """One upstream of a pool: its route, its provider, and how it fares in this process."""

    __slots__ = ("in_flight", "label", "provider", "resets_at", "rest", "route", "score", "until")

    def __init__(self, route: ModelRoute, provider: Provider) -> None:
        self.route = route
        self.provider = provider
        self.label = route.label or route.provider
        self.in_flight = 0
        self.rest: Rest | None = None
        """Why it last rested; it rests while the clock is before :attr:`until`."""
        self.until = 0.0
        self.resets_at: float | None = None
        """When its credits reset (wall clock), once its usage has been read (Kiro)."""
        self.score = 0
        """Its running score under the round-robin strategy."""


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
            resets_at = upstream.resets_at
            wall = self.wall()
            seconds = (
                resets_at - wall if resets_at is not None and resets_at > wall else QUOTA_REST_S
            )
        else:
            seconds = upstream.route.cooldown
        upstream.rest = verdict.rest
        upstream.until = self.clock() + seconds
        return seconds

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
