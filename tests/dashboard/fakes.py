"""A deterministic stand-in for the supervisor's feed, and the figures it serves.

Every value here is fixed (no clock, no randomness), so a screenshot of the dashboard is
the same on every run and every machine.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from llm_gateway.metrics.log_history import LogHistory, LogReader, not_shown
from llm_gateway.metrics.snapshot import (
    ClientStats,
    Connections,
    Credits,
    InFlightRequest,
    LogLine,
    ModelStats,
    Percentiles,
    Resources,
    Series,
    Snapshot,
    UpstreamStats,
)

CATCH_UP_LINES = 1000
"""As the supervisor's: what the plain view prints at most when it takes over."""

EPOCH = 1_790_000_000.0
"""The wall-clock time of the first log line (a fixed instant, shown in UTC)."""

HOSTILE_MODEL = "[b]m[/b]\x1b[2J\x07"
HOSTILE_MESSAGE = "client sent \x1b[31mred\x1b[0m and [link=http://x]markup[/link] \x1b]2;title\x07"


def _requests_at(i: int) -> float:
    """A day in the life: steady traffic, an idle spell, then a burst, then steady again."""
    if 300 <= i < 420:
        return 0.0
    if 600 <= i < 615:
        return 400.0
    return 20.0 + 8.0 * math.sin(i / 25.0)


def fixed_series(points: int = 900) -> Series:
    requests = tuple(_requests_at(i) for i in range(points))
    errors = tuple(round(r * 0.05, 2) for r in requests)
    idle = tuple(r == 0 for r in requests)
    p50 = tuple(None if quiet else 0.12 + 0.02 * math.sin(i / 40) for i, quiet in enumerate(idle))
    p95 = tuple(None if v is None else v * 3.5 for v in p50)
    p99 = tuple(
        None if v is None else (9.0 if 600 <= i < 615 else v * 6.0) for i, v in enumerate(p50)
    )
    return Series(
        step_s=1.0,
        requests_per_s=requests,
        errors_per_s=errors,
        active_connections=tuple(int(r / 4) for r in requests),
        p50_s=p50,
        p95_s=p95,
        p99_s=p99,
        tokens_per_s=tuple(r * 180 for r in requests),
        gateway_cpu_percent=tuple(r * 1.5 for r in requests),
        gateway_memory_bytes=tuple(180_000_000 for _ in requests),
    )


RESET = 1_796_083_200.0
"""2026-12-01 00:00 UTC, when the fixed Kiro accounts' credits reset."""


def fixed_upstreams() -> tuple[UpstreamStats, ...]:
    """A pool of two Kiro accounts and Anthropic, one spent and one cooling, and a lone route."""
    account = UpstreamStats("claude-sonnet-4", "", "kiro", workers=4, reads_credits=True)
    return (
        replace(
            account,
            label="kiro-personal",
            attempts=2_410,
            errors=3,
            p50_s=0.41,
            rest="quota",
            rest_s=3 * 86400,
            resting_in=4,
            credits=Credits(1000.0, 1000.0, RESET, "KIRO PRO"),
        ),
        replace(
            account,
            label="kiro-work",
            attempts=3_050,
            errors=40,
            p50_s=0.38,
            in_flight=2,
            credits=Credits(250.5, 1000.0, RESET, "KIRO PRO"),
        ),
        UpstreamStats(
            "claude-sonnet-4",
            "anthropic",
            "anthropic",
            attempts=700,
            errors=52,
            p50_s=0.33,
            rest="cooling",
            rest_s=22.4,
            resting_in=1,
            workers=4,
        ),
        UpstreamStats("gpt-4o-mini", "openai", "openai", 9_800, 310, 0.11, 3, workers=4),
    )


def fixed_clients() -> tuple[ClientStats, ...]:
    """Named keys, an unnamed one, refused requests, and a label too long for its column."""
    return (
        ClientStats("alice", 9_100, 120, 2_050_000, 700_000, 0.455, 0.14),
        ClientStats("ci-nightly-batch-runner-eu", 6_300, 280, 1_600_000, 610_000, 0.315, 0.38),
        ClientStats("key-…a1b2", 4_388, 205, 470_000, 238_000, 0.219, 0.09),
        ClientStats("(unauthenticated)", 212, 212, 0, 0, 0.011, 0.0006),
    )


def fixed_in_flight() -> tuple[InFlightRequest, ...]:
    """Seven open requests, oldest first: a long agent stream, streams, waits, a hostile name."""
    return (
        InFlightRequest(
            4 * 60 + 12.0, "anthropic", "claude-sonnet-4", "alice", "kiro-work", "streaming", 3_840
        ),
        InFlightRequest(
            38.2,
            "responses",
            "gpt-4o-mini",
            "ci-nightly-batch-runner-eu",
            "openai",
            "streaming",
            912,
        ),
        InFlightRequest(
            12.9, "anthropic", "claude-sonnet-4", "key-…a1b2", "anthropic", "waiting", 0
        ),
        InFlightRequest(3.31, "openai", "gpt-4o-mini", "alice", "openai", "streaming", 57),
        InFlightRequest(1.05, "openai", HOSTILE_MODEL, "alice", "", "waiting", 0),
        InFlightRequest(0.42, "openai", "sim-echo", "key-…a1b2", "sim", "streaming", 3),
        InFlightRequest(0.008, "anthropic", "claude-sonnet-4", "alice", "", "waiting", 0),
    )


def fixed_snapshot() -> Snapshot:
    models = (
        ModelStats(
            "gpt-4o-mini", 9_800, 310, Percentiles(0.11, 0.42, 0.9), 2_100_000, 640_000, 0.49
        ),
        ModelStats(
            "claude-sonnet-4", 6_100, 95, Percentiles(0.35, 1.2, 2.8), 1_900_000, 810_000, 0.305
        ),
        ModelStats("sim-echo", 3_900, 12, Percentiles(0.004, 0.009, 0.02), 120_000, 98_000, 0.195),
        ModelStats(HOSTILE_MODEL, 200, 200, Percentiles(None, None, None), 0, 0, 0.01),
    )
    return Snapshot(
        uptime_s=3 * 3600 + 25 * 60 + 7,
        workers=4,
        stalled_workers=(3,),
        active_connections=7,
        connections=Connections(open=1_240, closed_slow=37, refused=0),
        requests_total=20_000,
        request_rate=23.4,
        errors_total=617,
        errors_by_type={
            "auth": 12,
            "validation": 85,
            "upstream": 310,
            "timeout": 210,
            "internal": 0,
        },
        error_rate_by_type={"auth": 0.02, "validation": 0.15, "upstream": 0.6, "timeout": 0.4},
        error_share_by_type={
            "auth": 0.001,
            "validation": 0.0064,
            "upstream": 0.025,
            "timeout": 0.017,
        },
        latency=Percentiles(0.128, 0.47, 1.93),
        input_tokens_total=4_120_000,
        output_tokens_total=1_548_000,
        tokens_per_s=4_210.0,
        last_input_tokens=352,
        last_output_tokens=118,
        avg_input_tokens=206.0,
        avg_output_tokens=77.4,
        models=models,
        upstreams=fixed_upstreams(),
        clients=fixed_clients(),
        in_flight=fixed_in_flight(),
        resources=Resources(
            gateway_cpu_percent=38.0,
            gateway_memory_bytes=182_400_000,
            system_cpu_percent=145.0,
            system_memory_used_bytes=6_300_000_000,
            system_memory_total_bytes=16_000_000_000,
            cpu_count=4,
        ),
        series=fixed_series(),
    )


CROWDED_ROWS = 30
"""More than any panel of the medium layout has lines for."""


def crowded_snapshot() -> Snapshot:
    """The fixed figures with ``CROWDED_ROWS`` of each table's rows, named by rank."""
    return replace(
        fixed_snapshot(),
        models=tuple(
            ModelStats(f"model-{n:02d}", 1000 - n, 0, Percentiles(0.1, 0.2, 0.3), 10, 10, 0.03)
            for n in range(CROWDED_ROWS)
        ),
        clients=tuple(
            ClientStats(f"client-{n:02d}", 1000 - n, 0, 10, 10, 0.03, 0.1)
            for n in range(CROWDED_ROWS)
        ),
        upstreams=tuple(
            UpstreamStats("gpt-4o-mini", f"upstream-{n:02d}", "openai", 100, 0, 0.1, workers=4)
            for n in range(CROWDED_ROWS)
        ),
        in_flight=tuple(
            InFlightRequest(100.0 - n, "openai", f"model-{n:02d}", "c", "u", "streaming", n)
            for n in range(CROWDED_ROWS)
        ),
        active_connections=CROWDED_ROWS,
    )


def numbered_lines(start: int, count: int) -> list[LogLine]:
    """Log lines ``line 0007`` and so on, one second apart from :data:`EPOCH`."""
    return [
        LogLine(time=EPOCH + n, level=logging.INFO, logger="llm_gateway", message=f"line {n:04d}")
        for n in range(start, start + count)
    ]


def fixed_logs() -> list[LogLine]:
    levels = (logging.INFO, logging.INFO, logging.WARNING, logging.INFO, logging.ERROR)
    lines = [
        LogLine(
            EPOCH + n,
            levels[n % len(levels)],
            "llm_gateway",
            f"POST /v1/chat/completions 200 req {n}",
        )
        for n in range(12)
    ]
    lines.append(LogLine(EPOCH + 12, logging.WARNING, "llm_gateway", HOSTILE_MESSAGE))
    lines.append(
        LogLine(EPOCH + 13, logging.DEBUG, "llm_gateway", "debug lines stay out of the panel")
    )
    return lines


@dataclass
class FakeFeed:
    """A :class:`DashboardFeed` that serves a fixed snapshot and a log history.

    ``produce_per_call`` numbered lines are logged on every snapshot or
    ``print_plain_logs`` call, to mimic a gateway that keeps logging; ``printed`` holds
    what the plain view would have written, one entry per line.
    """

    snapshot_value: Snapshot = field(default_factory=fixed_snapshot)
    version: str = "0.1.0"
    listen_url: str = "http://127.0.0.1:8000"
    log_level: int = logging.INFO
    history: LogHistory = field(default_factory=LogHistory)
    produce_per_call: int = 0
    produced: int = 0
    printed: list[str] = field(default_factory=list)
    snapshot_calls: int = 0

    def __post_init__(self) -> None:
        self._stdout = self.history.reader()

    def queue(self, lines: Iterable[LogLine]) -> None:
        self.history.extend(lines)

    def _produce(self) -> None:
        self.queue(numbered_lines(self.produced, self.produce_per_call))
        self.produced += self.produce_per_call

    def snapshot(self) -> Snapshot:
        self.snapshot_calls += 1
        self._produce()
        return self.snapshot_value

    def log_reader(self, back: int) -> LogReader:
        return self.history.reader(back=back)

    def print_plain_logs(self, *, catching_up: bool = False) -> None:
        self._produce()
        batch = self._stdout.read(CATCH_UP_LINES if catching_up else None)
        if batch.missed:
            self.printed.append(not_shown(batch.missed))
        self.printed.extend(line.message for line in batch.records())
