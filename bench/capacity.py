"""Streaming capacity: many long streams open at once through one server.

``bench/run --streams`` opens N streams (200, 1,000, 2,000 and 4,000 by default) of M
chunks sent R a second by the mock, all at once (started over a short ramp), through
each target, and measures:

- **CPU per relayed chunk**: the server's whole process tree, user plus system time,
  less what it spends idle (measured for a second before), over every SSE event the
  clients received;
- **slowest ÷ ideal**: the longest stream, request to last byte, over ``(M - 1) / R``
  (the mock sends the first chunk at once and the rest ``1 / R`` apart);
- **p99 gap**: between two events of one stream, at the client;
- **RSS per stream**: the tree's peak RSS during the run, less its RSS just before,
  over N.

The client is one uvloop process with a bare protocol per stream (no HTTP library): it
writes one request and counts the blank lines that end SSE events as bytes arrive. It
shares the load CPU with the mock, so both are measured too: the load side's CPU share
is reported beside each direct-to-mock run, and a direct run whose slowest stream is
near 1.0x ideal shows that the load side kept up at that N.
"""

from __future__ import annotations

import asyncio
import os
import resource
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import cast
from urllib.parse import urlsplit

import psutil
import uvloop

from bench.servers import Server
from bench.targets import GATEWAY_KEY, NGINX_KEY

WARMUP_STREAMS = 20
"""Streams run through each target and path first, unmeasured: imports, first connections."""
SAMPLE_S = 0.05
IDLE_S = 1.0
"""How long the server's idle CPU use is measured before each run, to be left out."""


@dataclass(frozen=True)
class Shape:
    """What each stream is: ``chunks`` pieces of text, ``rate`` a second; and how they start.

    Streams start evenly, ``starts_per_s`` a second, as clients arriving, not as one
    thundering herd; all N are open at once as long as N / ``starts_per_s`` is shorter
    than one stream.
    """

    chunks: int
    rate: float
    starts_per_s: float

    @property
    def ideal_s(self) -> float:
        return (self.chunks - 1) / self.rate


@dataclass(frozen=True)
class CapacityResult:
    streams: int
    completed: int
    events: int
    server_cpu_s: float
    load_cpu_share: float
    """The client's and the mock's CPU time over the run's wall time (1.0 = the whole CPU)."""
    slowest_s: float
    gap_p99_ms: float
    rss_per_stream_bytes: float

    @property
    def errors(self) -> int:
        return self.streams - self.completed

    @property
    def cpu_per_chunk_us(self) -> float:
        return self.server_cpu_s / self.events * 1e6 if self.events else float("nan")


class _Stream(asyncio.Protocol):
    """One streamed request on its own connection; ``Connection: close`` ends it."""

    def __init__(self, request: bytes, end_marker: bytes, done: asyncio.Future[None]) -> None:
        self._request = request
        self._end_marker = end_marker
        self._done = done
        self.started = 0.0
        self.ended = 0.0
        self.events = 0
        self.gaps: list[float] = []
        self._last_event = 0.0
        self._tail = b""
        self._head = b""
        self._saw_end = False
        self.ok = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.started = self._last_event = time.perf_counter()
        cast(asyncio.Transport, transport).write(self._request)

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        if not self._head:
            self._head = data[:12]
        # A blank line may straddle two reads; the tail keeps the end of the last one.
        joined = self._tail[-1:] + data
        found = joined.count(b"\n\n")
        if found:
            self.gaps.append(now - self._last_event)
            self.gaps.extend([0.0] * (found - 1))
            self._last_event = now
            self.events += found
        # The closing event's name can be far from the end (a Responses stream's last event
        # carries the whole response), so it is looked for as it passes.
        joined = self._tail + data
        self._saw_end = self._saw_end or self._end_marker in joined
        self._tail = joined[-64:]

    def connection_lost(self, exc: Exception | None) -> None:
        self.ended = time.perf_counter()
        answered = self._head.startswith(b"HTTP/1.1 200")
        self.ok = exc is None and answered and self._saw_end
        if not self._done.done():
            self._done.set_result(None)


def _request(url: str, body: bytes, headers: Mapping[str, str]) -> tuple[str, int, bytes]:
    parts = urlsplit(url)
    lines = [
        f"POST {parts.path} HTTP/1.1",
        f"Host: {parts.netloc}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        "Connection: close",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    head = ("\r\n".join(lines) + "\r\n\r\n").encode()
    return parts.hostname or "127.0.0.1", parts.port or 80, head + body


async def _open_all(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    count: int,
    starts_per_s: float,
    end_marker: bytes,
    limit_s: float,
) -> list[_Stream]:
    host, port, request = _request(url, body, headers)
    loop = asyncio.get_running_loop()
    streams: list[_Stream] = []
    waits: list[asyncio.Future[None]] = []

    async def one(index: int) -> None:
        await asyncio.sleep(index / starts_per_s)
        done: asyncio.Future[None] = loop.create_future()
        stream = _Stream(request, end_marker, done)
        streams.append(stream)
        waits.append(done)
        try:
            await loop.create_connection(lambda: stream, host, port)
        except OSError:
            done.set_result(None)

    await asyncio.gather(*(one(i) for i in range(count)))
    await asyncio.wait(waits, timeout=limit_s)
    return streams


def _tree_rss(server: Server) -> int:
    total = 0
    for process in server.tree():
        try:
            total += process.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total


@dataclass
class _PeakRss:
    server: Server
    peak: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _tree_rss(self.server))
            self._stop.wait(SAMPLE_S)

    def stop(self) -> None:
        self._stop.set()


def measure(
    server: Server,
    mock: Server,
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    streams: int,
    shape: Shape,
    end_marker: bytes,
) -> CapacityResult:
    """Run ``streams`` streams at once through ``server`` and measure it (see the module)."""
    # What the server spends idle (a supervisor's reports and samples) is not the streams'.
    idle_before = server.cpu_seconds()
    time.sleep(IDLE_S)
    idle_rate = (server.cpu_seconds() - idle_before) / IDLE_S
    baseline = _tree_rss(server)
    sampler = _PeakRss(server, baseline)
    thread = threading.Thread(target=sampler.run, daemon=True)
    cpu_before = server.cpu_seconds()
    load_before = _own_cpu_s() + mock.cpu_seconds()
    wall_before = time.perf_counter()
    thread.start()
    limit_s = streams / shape.starts_per_s + shape.ideal_s * 10 + 30
    try:
        opened = uvloop.run(
            _open_all(url, body, headers, streams, shape.starts_per_s, end_marker, limit_s)
        )
    finally:
        sampler.stop()
        thread.join()
    wall = time.perf_counter() - wall_before
    server_cpu = max(server.cpu_seconds() - cpu_before - idle_rate * wall, 0.0)
    if server is mock:
        # Direct runs: the mock is the server; the load side is the client alone.
        load_cpu = _own_cpu_s() + mock.cpu_seconds() - load_before - server_cpu
    else:
        load_cpu = _own_cpu_s() + mock.cpu_seconds() - load_before
    completed = [s for s in opened if s.ok]
    gaps = sorted(gap for s in completed for gap in s.gaps[1:])
    return CapacityResult(
        streams=streams,
        completed=len(completed),
        events=sum(s.events for s in opened),
        server_cpu_s=server_cpu,
        load_cpu_share=load_cpu / wall if wall else float("nan"),
        slowest_s=max((s.ended - s.started for s in completed), default=float("nan")),
        gap_p99_ms=gaps[int(len(gaps) * 0.99)] * 1000 if gaps else float("nan"),
        rss_per_stream_bytes=max(sampler.peak - baseline, 0) / streams,
    )


def _own_cpu_s() -> float:
    times = os.times()
    return times.user + times.system


def allow_open_files(needed: int) -> None:
    """Raise this process's open-files limit to the hard limit; say so if that is too few."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if hard != resource.RLIM_INFINITY and hard < needed:
        raise SystemExit(f"bench/run --streams needs {needed:,} open files; the limit is {hard:,}")


def counts(text: str) -> Sequence[int]:
    return tuple(int(part) for part in text.split(",") if part.strip())


# The targets for one worker.
TARGET_STREAMS = 2000
MAX_TIMES_DIRECT = 1.15
MAX_CPU_PER_CHUNK_US = {True: 20.0, False: 35.0}
"""By whether the path passes through."""
MAX_RSS_PER_STREAM_KB = 32.0


@dataclass(frozen=True)
class Row:
    key: str
    """The target's key."""
    target: str
    """The target's label."""
    path: str
    """The path's label."""
    pass_through: bool
    result: CapacityResult
    direct_slowest_s: float | None
    """The slowest stream of the direct run at the same N, if there was one."""


def render(rows: Sequence[Row], shape: Shape, header: str) -> str:
    """The streaming capacity section: one table, a row per target, path and N."""
    lines = [
        "## Streaming capacity\n",
        header,
        f"Each stream: {shape.chunks} chunks, {shape.rate:g} a second from the mock (ideal "
        f"{shape.ideal_s:g} s), started {shape.starts_per_s:,.0f} a second. CPU is the server's whole "
        "process tree, less its idle use, per SSE event the clients received; RSS is its peak during the run less "
        "its RSS before, per stream; the load CPU is the client's and the mock's time over the "
        "run's wall time, on their one CPU.\n",
        "| Target | Path | Streams | Completed | CPU per chunk (µs) | Slowest ÷ ideal "
        "| Slowest ÷ direct | p99 gap (ms) | RSS per stream (KB) | Load CPU |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        r = row.result
        versus = (
            f"{r.slowest_s / row.direct_slowest_s:.2f}x"
            if row.direct_slowest_s and r.completed
            else "—"
        )
        lines.append(
            f"| {row.target} | {row.path} | {r.streams:,} | {r.completed:,} "
            f"| {r.cpu_per_chunk_us:.1f} | {r.slowest_s / shape.ideal_s:.2f}x | {versus} "
            f"| {r.gap_p99_ms:.0f} | {r.rss_per_stream_bytes / 1024:.1f} "
            f"| {r.load_cpu_share:.0%} |"
        )
    return "\n".join(lines) + "\n" + _checks(rows) + _versus_nginx(rows)


def _checks(rows: Sequence[Row]) -> str:
    """The targets, on llm-gateway's rows at :data:`TARGET_STREAMS` streams."""
    lines = []
    for row in rows:
        r = row.result
        if row.key != GATEWAY_KEY or r.streams != TARGET_STREAMS:
            continue
        name = f"llm-gateway, {row.path}, {r.streams:,} streams"
        versus = r.slowest_s / row.direct_slowest_s if row.direct_slowest_s else float("nan")
        cpu_limit = MAX_CPU_PER_CHUNK_US[row.pass_through]
        rss = r.rss_per_stream_bytes / 1024
        for ok, what in (
            (versus <= MAX_TIMES_DIRECT, f"slowest ≤ {MAX_TIMES_DIRECT}x direct: {versus:.2f}x"),
            (
                r.cpu_per_chunk_us <= cpu_limit,
                f"≤ {cpu_limit:g} µs CPU per chunk: {r.cpu_per_chunk_us:.1f}",
            ),
            (rss <= MAX_RSS_PER_STREAM_KB, f"≤ {MAX_RSS_PER_STREAM_KB:g} KB per stream: {rss:.1f}"),
            (r.errors == 0, f"every stream complete: {r.errors} not"),
        ):
            lines.append(f"- {'✅' if ok else '❌'} {name}: {what}")
    return "\n### Targets\n\n" + "\n".join(lines) + "\n" if lines else ""


def _versus_nginx(rows: Sequence[Row]) -> str:
    """llm-gateway's CPU per chunk over nginx's, on the same pass-through path and N."""
    nginx = {(row.path, row.result.streams): row.result for row in rows if row.key == NGINX_KEY}
    lines = []
    for row in rows:
        floor = nginx.get((row.path, row.result.streams))
        if row.key != GATEWAY_KEY or floor is None or not floor.cpu_per_chunk_us:
            continue
        times = row.result.cpu_per_chunk_us / floor.cpu_per_chunk_us
        lines.append(f"- {row.path}, {row.result.streams:,} streams: {times:.2f}x")
    if not lines:
        return ""
    return "\n### CPU per chunk, llm-gateway ÷ nginx\n\n" + "\n".join(lines) + "\n"
