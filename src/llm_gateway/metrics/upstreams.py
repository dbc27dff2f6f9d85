"""Per-upstream figures: every attempt on every pool's upstreams, and how each one fares.

The client-facing figures count each request once. These count each *attempt*, on the
upstream it went to, so a request that failed over is one request and two attempts, one
of them failed. As with the rest of the metrics, a worker adds up an interval
(:class:`UpstreamsInterval`, O(1) per attempt) and the supervisor merges the intervals
(:class:`UpstreamsTotals`) into :class:`UpstreamStats` for the snapshot.

An upstream's :class:`UpstreamState` (resting, why and until when; a Kiro account's
credits) changes rarely. A worker reports it when it changes, and the supervisor keeps
the latest from each worker: rests belong to one worker process, so the dashboard shows
the longest and in how many workers it holds.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from llm_gateway.metrics.histogram import BUCKETS, bucket_of, dense_percentiles
from llm_gateway.metrics.snapshot import Credits, UpstreamStats


@dataclass(frozen=True, slots=True)
class UpstreamState:
    """What a worker knows of one upstream beyond its counts; sent when it changes."""

    model: str
    label: str
    provider: str
    rest: str = ""
    """``""`` while it serves, else why it rests: ``cooling``, ``quota`` or ``auth``."""
    until: float = 0.0
    """When the rest ends, on ``time.monotonic()`` (system-wide, so comparable across
    processes); past it, the upstream serves again."""
    reads_credits: bool = False
    """It has credits to read (Kiro); with ``credits`` ``None`` they are unknown."""
    credits: Credits | None = None


@dataclass(slots=True)
class AttemptRecord:
    """One attempt on one upstream, once it is over."""

    key: str
    latency_s: float
    failed: bool


@dataclass(slots=True)
class _Counts:
    attempts: int = 0
    failed: int = 0
    latency: dict[int, int] = field(default_factory=dict)


@dataclass(slots=True)
class UpstreamsInterval:
    """The worker's side: attempts since the last interval, in flight now, states changed."""

    counts: dict[str, _Counts] = field(default_factory=dict)
    in_flight: dict[str, int] = field(default_factory=dict)
    states: dict[str, UpstreamState] = field(default_factory=dict)

    def attempt_started(self, key: str) -> None:
        self.in_flight[key] = self.in_flight.get(key, 0) + 1

    def attempt_finished(self, record: AttemptRecord) -> None:
        key = record.key
        self.in_flight[key] -= 1
        counts = self.counts.get(key)
        if counts is None:
            counts = self.counts[key] = _Counts()
        counts.attempts += 1
        counts.failed += record.failed
        bucket = bucket_of(record.latency_s)
        counts.latency[bucket] = counts.latency.get(bucket, 0) + 1

    def take(self) -> UpstreamsInterval:
        """What to send now; counts and changed states start afresh, in-flight carries on."""
        taken = UpstreamsInterval(self.counts, dict(self.in_flight), self.states)
        self.counts, self.states = {}, {}
        return taken

    def to_wire(self) -> dict[str, Any]:
        return {
            "counts": {
                key: [c.attempts, c.failed, [n for pair in c.latency.items() for n in pair]]
                for key, c in self.counts.items()
            },
            "in_flight": self.in_flight,
            "states": {key: asdict(state) for key, state in self.states.items()},
        }

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> UpstreamsInterval:
        interval = cls()
        for key, (attempts, failed, flat) in data["counts"].items():
            latency = dict(zip(flat[::2], flat[1::2], strict=True))
            interval.counts[key] = _Counts(attempts, failed, latency)
        interval.in_flight = data["in_flight"]
        for key, state in data["states"].items():
            credits = state.pop("credits")
            interval.states[key] = UpstreamState(
                **state, credits=None if credits is None else Credits(**credits)
            )
        return interval


class _Totals:
    __slots__ = ("attempts", "failed", "latency")

    def __init__(self) -> None:
        self.attempts = 0
        self.failed = 0
        self.latency = [0] * BUCKETS


class UpstreamsTotals:
    """The supervisor's side: every worker's intervals merged, read with :meth:`stats`.

    Memory is bounded by the configured upstreams, which every worker shares.
    """

    def __init__(self) -> None:
        self._totals: dict[str, _Totals] = {}
        self._in_flight: dict[int, dict[str, int]] = {}
        self._states: dict[int, dict[str, UpstreamState]] = {}

    def merge(self, worker: int, interval: UpstreamsInterval) -> None:
        for key, counts in interval.counts.items():
            totals = self._totals.get(key)
            if totals is None:
                totals = self._totals[key] = _Totals()
            totals.attempts += counts.attempts
            totals.failed += counts.failed
            for bucket, count in counts.latency.items():
                totals.latency[bucket] += count
        self._in_flight[worker] = interval.in_flight
        if interval.states:
            self._states.setdefault(worker, {}).update(interval.states)

    def worker_left(self, worker: int) -> None:
        self._in_flight.pop(worker, None)
        self._states.pop(worker, None)

    def stats(self, now: float) -> tuple[UpstreamStats, ...]:
        """Every upstream a worker has described, in the order first described."""
        described: dict[str, list[UpstreamState]] = {}
        for states in self._states.values():
            for key, state in states.items():
                described.setdefault(key, []).append(state)
        return tuple(self._stats(key, states, now) for key, states in described.items())

    def _stats(self, key: str, states: list[UpstreamState], now: float) -> UpstreamStats:
        totals = self._totals.get(key) or _Totals()
        resting = [s for s in states if s.rest and s.until > now]
        longest = max(resting, key=lambda s: s.until, default=None)
        known = [s.credits for s in states if s.credits is not None]
        first = states[0]
        return UpstreamStats(
            model=first.model,
            label=first.label,
            provider=first.provider,
            attempts=totals.attempts,
            errors=totals.failed,
            p50_s=dense_percentiles(totals.latency, totals.attempts).p50,
            in_flight=sum(flights.get(key, 0) for flights in self._in_flight.values()),
            rest=longest.rest if longest is not None else "",
            rest_s=longest.until - now if longest is not None else 0.0,
            resting_in=len(resting),
            workers=len(states),
            reads_credits=first.reads_credits,
            credits=known[-1] if known else None,
        )
