"""Pools: which upstream each attempt goes to, and how long a failed one rests."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from llm_gateway.config import ModelRoute, Strategy
from llm_gateway.errors import GatewayError
from llm_gateway.metrics.snapshot import Credits
from llm_gateway.pools import Pool, Upstream
from llm_gateway.pools.credits import CreditsWatch
from llm_gateway.pools.pool import QUOTA_REST_S
from llm_gateway.pools.retry import Verdict
from llm_gateway.providers.sim import SimProvider


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make_pool(
    *weights: int, strategy: Strategy = "failover", retries: int | None = None
) -> tuple[Pool, Clock]:
    members = tuple(
        ModelRoute(name="m", provider="sim", label=f"u{i}", weight=w, cooldown=30.0)
        for i, w in enumerate(weights)
    )
    route = ModelRoute(
        name="m", provider="sim", strategy=strategy, retries=retries, upstreams=members
    )
    clock = Clock()
    pool = Pool(route, [Upstream(m, SimProvider(m)) for m in members], clock=clock, wall=clock)
    return pool, clock


def labels(pool: Pool, tried: list[Upstream]) -> str | None:
    picked = pool.pick(tried)
    return None if picked is None else picked.label


def test_failover_takes_the_first_ready_upstream_in_order() -> None:
    pool, _ = make_pool(1, 1, 1)
    first, second, third = pool.upstreams
    assert labels(pool, []) == "u0"
    assert labels(pool, [first]) == "u1"
    pool.rest(second, Verdict("cooling"))
    assert labels(pool, [first]) == "u2"
    assert pool.pick([first, third]) is None
    assert pool.attempts == 3


def test_retries_bound_the_attempts() -> None:
    assert make_pool(1, 1, 1, retries=0)[0].attempts == 1


def test_only_a_pool_of_several_fails_over() -> None:
    assert make_pool(1, 1)[0].fails_over
    assert not make_pool(1)[0].fails_over


def test_a_cooldown_honours_retry_after_then_ends() -> None:
    pool, clock = make_pool(1, 1)
    first = pool.upstreams[0]
    assert pool.rest(first, Verdict("cooling", retry_after_s=120.0)) == 120.0
    clock.now += 119.9
    assert labels(pool, []) == "u1"
    clock.now += 0.1
    assert labels(pool, []) == "u0"


def test_without_retry_after_the_upstreams_cooldown_applies() -> None:
    pool, _ = make_pool(1)
    assert pool.rest(pool.upstreams[0], Verdict("auth")) == 30.0
    assert pool.upstreams[0].rest == "auth"


def test_a_spent_quota_rests_until_its_reset_or_an_hour() -> None:
    pool, clock = make_pool(1, 1)
    account = pool.upstreams[0]
    assert pool.rest(account, Verdict("quota")) == QUOTA_REST_S
    account.credits = Credits(used=50.0, limit=50.0, resets_at=clock.now + 5000.0)
    assert pool.rest(account, Verdict("quota")) == 5000.0


def test_all_resting_is_a_429_saying_when_the_first_returns() -> None:
    pool, _ = make_pool(1, 1)
    pool.rest(pool.upstreams[0], Verdict("cooling", retry_after_s=90.0))
    pool.rest(pool.upstreams[1], Verdict("cooling", retry_after_s=40.5))
    assert pool.pick([]) is None
    error = pool.all_resting()
    assert (error.status, error.retry_after) == (429, 41)
    assert "model 'm'" in error.message and "resting" in error.message


def test_round_robin_spreads_by_weight() -> None:
    pool, _ = make_pool(1, 3, 6, strategy="round-robin")
    counts = Counter(labels(pool, []) for _ in range(1000))
    for label, share in (("u0", 0.1), ("u1", 0.3), ("u2", 0.6)):
        assert abs(counts[label] - 1000 * share) <= 1000 * share * 0.1


def test_round_robin_skips_resting_upstreams() -> None:
    pool, _ = make_pool(1, 1, strategy="round-robin")
    pool.rest(pool.upstreams[1], Verdict("cooling"))
    assert {labels(pool, []) for _ in range(10)} == {"u0"}


def test_least_busy_picks_the_fewest_in_flight() -> None:
    pool, _ = make_pool(1, 1, 1, strategy="least-busy")
    a, b, c = pool.upstreams
    a.in_flight, b.in_flight, c.in_flight = 3, 1, 2
    assert labels(pool, []) == "u1"
    assert labels(pool, [b]) == "u2"


def test_credits_read_later_move_a_quota_rest_to_the_reset() -> None:
    pool, clock = make_pool(1, 1)
    account = pool.upstreams[0]
    assert pool.rest(account, Verdict("quota")) == QUOTA_REST_S
    pool.credits_read(account, Credits(used=50.0, limit=50.0, resets_at=clock.now + 7200.0))
    assert account.until == clock.now + 7200.0
    pool.credits_read(account, None)  # a failed read: unknown, and the rest stands
    assert (account.credits, account.until) == (None, clock.now + 7200.0)


class Reader:
    """Answers like a Kiro account's usage API, then waits forever once it has no answers."""

    def __init__(self, *answers: Credits | GatewayError) -> None:
        self.answers = list(answers)
        self.done = asyncio.Event()

    async def read_credits(self) -> Credits:
        if not self.answers:
            self.done.set()
            await asyncio.Future()
        answer = self.answers.pop(0)
        if isinstance(answer, GatewayError):
            raise answer
        return answer


async def test_a_watch_reads_again_and_a_failed_read_makes_credits_unknown(
    caplog: pytest.LogCaptureFixture,
) -> None:
    pool, _ = make_pool(1, 1)
    account = pool.upstreams[0]
    reader = Reader(Credits(used=1.0, limit=50.0), GatewayError("upstream", 502, "Kiro is down"))
    watch = CreditsWatch(pool, account, reader, every_s=0.001)
    assert account.reads_credits
    watch.start()
    await reader.done.wait()
    await watch.stop()
    assert account.credits is None
    assert "upstream=u0: cannot read its credits (Kiro is down)" in caplog.text
