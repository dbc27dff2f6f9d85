"""Per-upstream metrics: attempts counted where they went, states as the workers report them."""

from __future__ import annotations

from dataclasses import replace

import orjson

from llm_gateway.metrics.aggregator import Aggregator
from llm_gateway.metrics.interval import Interval, IntervalRecorder
from llm_gateway.metrics.record import RequestRecord
from llm_gateway.metrics.snapshot import Credits
from llm_gateway.metrics.upstreams import AttemptRecord, UpstreamState
from tests.exchanges import unattached

KIRO = UpstreamState("claude", "kiro-work", "kiro", reads_credits=True)
BACKUP = UpstreamState("claude", "anthropic", "anthropic")


def failed_over(recorder: IntervalRecorder) -> None:
    """One request: a failed attempt on kiro-work, then one served by anthropic."""
    request = unattached()
    recorder.request_started(request)
    recorder.attempt_started("claude/kiro-work")
    recorder.attempt_finished(AttemptRecord("claude/kiro-work", 0.01, failed=True))
    recorder.attempt_started("claude/anthropic")
    recorder.attempt_finished(AttemptRecord("claude/anthropic", 0.5, failed=False))
    record = RequestRecord("claude", 200, 0.51, upstream="anthropic", attempts=2)
    recorder.request_finished(request, record)


def test_the_wire_form_keeps_attempts_in_flight_and_states() -> None:
    recorder = IntervalRecorder(clock=lambda: 5.0)
    credits = Credits(used=250.5, limit=1000.0, resets_at=1_800_000_000.0, plan="KIRO PRO")
    recorder.upstream_changed("claude/kiro-work", replace(KIRO, credits=credits))
    failed_over(recorder)
    recorder.attempt_started("claude/anthropic")
    interval = recorder.take()
    assert interval.upstreams.in_flight == {"claude/kiro-work": 0, "claude/anthropic": 1}
    assert Interval.from_wire(orjson.loads(orjson.dumps(interval.to_wire()))) == interval
    # States are sent when they change, counts once; the in-flight count carries on.
    again = recorder.take().upstreams
    assert (again.states, again.counts, again.in_flight["claude/anthropic"]) == ({}, {}, 1)


def test_attempts_are_counted_per_upstream_and_requests_once() -> None:
    now = [100.0]
    aggregator = Aggregator(clock=lambda: now[0])
    for worker in (1, 2):
        recorder = IntervalRecorder(clock=lambda: now[0])
        recorder.upstream_changed("claude/kiro-work", KIRO)
        recorder.upstream_changed("claude/anthropic", BACKUP)
        failed_over(recorder)
        aggregator.worker_joined(worker)
        aggregator.merge(worker, recorder.take())
    snapshot = aggregator.snapshot()
    assert snapshot.requests_total == 2
    assert snapshot.errors_total == 0
    kiro, backup = snapshot.upstreams
    assert (kiro.label, kiro.attempts, kiro.errors, kiro.workers) == ("kiro-work", 2, 2, 2)
    assert (backup.label, backup.attempts, backup.errors, backup.in_flight) == (
        "anthropic",
        2,
        0,
        0,
    )
    assert kiro.reads_credits and kiro.credits is None  # never read: unknown, not zero
    assert backup.p50_s is not None and backup.p50_s > kiro.p50_s  # type: ignore[operator]


def test_a_rest_shows_the_longest_and_in_how_many_workers_then_ends() -> None:
    now = [100.0]
    aggregator = Aggregator(clock=lambda: now[0])
    serving = UpstreamState("m", "a", "sim")
    for worker, state in ((1, replace(serving, rest="cooling", until=130.0)), (2, serving)):
        recorder = IntervalRecorder(clock=lambda: now[0])
        recorder.upstream_changed("m/a", state)
        aggregator.worker_joined(worker)
        aggregator.merge(worker, recorder.take())
    (upstream,) = aggregator.snapshot().upstreams
    assert (upstream.rest, upstream.rest_s, upstream.resting_in, upstream.workers) == (
        "cooling",
        30.0,
        1,
        2,
    )
    now[0] = 130.0
    assert aggregator.snapshot().upstreams[0].rest == ""
    aggregator.worker_left(1)
    assert aggregator.snapshot().upstreams[0].workers == 1
