"""What one benchmark run measured, round by round, before any summary.

Every figure the report shows is computed from pairs taken *within one round* (a gateway
against the mock, llm-gateway against LiteLLM), then summarised over rounds as a median
with its min and max; so a slow minute on a shared machine moves both sides of a pair.
The access log's figures (:class:`SideBySide`) pair closer still: both sides at once.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Measurement:
    """One target on one path in one round."""

    latency_p50_ms: float
    """At one connection."""
    latency_p99_ms: float
    requests_per_s: float
    """At the load's connection count (32)."""
    load_p99_ms: float
    errors: int
    """Failed requests and streams, warm-up included."""
    first_byte_ms: float
    """Streams: median time to the first body byte, at the client."""
    stream_total_ms: float


@dataclass(frozen=True)
class Spread:
    median: float
    low: float
    high: float

    @classmethod
    def of(cls, values: list[float]) -> Spread | None:
        values = [value for value in values if not math.isnan(value)]
        if not values:
            return None
        return cls(statistics.median(values), min(values), max(values))

    @staticmethod
    def text(spread: Spread | None, spec: str) -> str:
        """``median [low, high]``, each formatted with ``spec``; ``n/a`` for no values."""
        if spread is None:
            return "n/a"
        return f"{spread.median:{spec}} [{spread.low:{spec}}, {spread.high:{spec}}]"


def quantile(values: Sequence[float], q: float) -> float:
    """The smallest value with at least ``q`` of ``values`` at or below it; NaN for none."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


@dataclass(frozen=True)
class SideBySide:
    """A default-configuration target against the same without the access log, on one path,
    both running at once (see :mod:`bench.side_by_side`)."""

    requests_per_s_ratios: tuple[float, ...]
    """Default ÷ quiet, both loaded at the same time, one per leg."""
    p99_on_ms: float
    """At one connection, requests alternating with the quiet one's, timed by one client."""
    p99_off_ms: float
    errors: int
    """Failed requests of both servers, warm-up included."""


@dataclass
class Results:
    rounds: int
    measurements: dict[tuple[str, str, int], Measurement] = field(default_factory=dict)
    failures: dict[tuple[str, str], str] = field(default_factory=dict)
    """(target, path) -> why that path could not be measured (the last round's reason)."""
    peak_rss: dict[tuple[str, int], int] = field(default_factory=dict)
    """(target, round) -> peak RSS in bytes."""
    side_by_side: dict[tuple[str, str], SideBySide] = field(default_factory=dict)
    """(default-configuration target, path) -> it against its quiet twin, side by side."""

    def add(self, target: str, path: str, round_: int, measurement: Measurement) -> None:
        self.measurements[target, path, round_] = measurement

    def fail(self, target: str, path: str, reason: str) -> None:
        self.failures[target, path] = reason

    def pairs(
        self, a: tuple[str, str], b: tuple[str, str]
    ) -> Iterator[tuple[Measurement, Measurement]]:
        """``(target, path)`` ``a`` and ``b`` in each round where both were measured."""
        for round_ in range(self.rounds):
            first = self.measurements.get((*a, round_))
            second = self.measurements.get((*b, round_))
            if first is not None and second is not None:
                yield first, second

    def together(self, *keys: tuple[str, str]) -> Iterator[tuple[Measurement, ...]]:
        """Each ``(target, path)`` of ``keys``, in each round where all were measured."""
        for round_ in range(self.rounds):
            found = [self.measurements.get((*key, round_)) for key in keys]
            measured = [m for m in found if m is not None]
            if len(measured) == len(keys):
                yield tuple(measured)

    def paired(
        self,
        a: tuple[str, str],
        b: tuple[str, str],
        combine: Callable[[Measurement, Measurement], float],
    ) -> Spread | None:
        return Spread.of([combine(first, second) for first, second in self.pairs(a, b)])

    def single(self, a: tuple[str, str], value: Callable[[Measurement], float]) -> Spread | None:
        found = (self.measurements.get((*a, round_)) for round_ in range(self.rounds))
        return Spread.of([value(m) for m in found if m is not None])

    def errors(self, target: str) -> int:
        """Failures in the rounds (side by side, each :class:`SideBySide` counts its own)."""
        return sum(m.errors for (t, _, _), m in self.measurements.items() if t == target)

    def rss(self, target: str) -> Spread | None:
        rounds = range(self.rounds)
        return Spread.of(
            [self.peak_rss[target, r] / 2**20 for r in rounds if (target, r) in self.peak_rss]
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "rounds": self.rounds,
            "measurements": [
                {"target": t, "path": p, "round": r + 1, **asdict(m)}
                for (t, p, r), m in self.measurements.items()
            ],
            "failures": [
                {"target": t, "path": p, "reason": why} for (t, p), why in self.failures.items()
            ],
            "peak_rss_bytes": [
                {"target": t, "round": r + 1, "bytes": b} for (t, r), b in self.peak_rss.items()
            ],
            "side_by_side": [
                {"target": t, "path": p, **asdict(s)} for (t, p), s in self.side_by_side.items()
            ],
        }
