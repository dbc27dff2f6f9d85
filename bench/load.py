"""The load: ``wrk`` for whole replies, an aiohttp client for streamed ones.

``wrk`` runs one thread and reports through ``wrk/post.lua``, which prints one
``BENCH_RESULT`` JSON line. Both run on the load CPU, inherited from the driver. ``wrk`` cannot see inside a response, so streams
are timed by :func:`measure_streams` at the client: the time to the first body byte and
to the last, with every stream checked to have arrived whole.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import statistics
import subprocess
import time
import urllib.request
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import orjson

from bench.paths import Api

LUA_SCRIPT = Path(__file__).with_name("wrk") / "post.lua"
RESULT_PREFIX = "BENCH_RESULT "
WRK_TIMEOUT = "10s"

# What the last event of a complete stream holds, by the API the client speaks.
STREAM_ENDS: dict[Api, bytes] = {
    "openai": b"[DONE]",
    "anthropic": b"message_stop",
    "responses": b"response.completed",
}


class LoadFailed(Exception):
    """The load generator itself failed (not the server under test)."""


@dataclass(frozen=True)
class WrkResult:
    requests: int
    errors: int
    requests_per_s: float
    p50_ms: float
    p99_ms: float


@dataclass(frozen=True)
class StreamResult:
    samples: int
    errors: int
    first_byte_ms: float
    total_ms: float


def run_wrk(
    url: str,
    body_file: Path,
    *,
    connections: int,
    seconds: int,
    headers: Mapping[str, str],
) -> WrkResult:
    """POST ``body_file`` to ``url`` over ``connections`` keep-alive connections."""
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", f"--timeout={WRK_TIMEOUT}"]
    for name, value in headers.items():
        argv += ["-H", f"{name}: {value}"]
    argv += ["-s", str(LUA_SCRIPT), url]
    env = {**os.environ, "BENCH_BODY": str(body_file)}
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=seconds + 60)
    for line in done.stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            return _wrk_result(orjson.loads(line[len(RESULT_PREFIX) :]))
    output = (done.stdout + done.stderr).strip()
    raise LoadFailed(f"wrk printed no result (exit {done.returncode}): {output}")


@dataclass(frozen=True)
class WholeResult:
    single: WrkResult
    """At one connection: the latency of one request at a time."""
    loaded: WrkResult
    """At full load: requests/s, and the p99 while queued."""
    warmup_errors: int


def measure_whole(
    url: str,
    body_file: Path,
    *,
    headers: Mapping[str, str],
    connections: int,
    seconds: int,
    warmup: int,
    during_load: AbstractContextManager[None] | None = None,
) -> WholeResult:
    """Whole replies, as ``bench/run`` measures them: a warm-up, 1 connection, full load.

    The warm-up runs at full load for ``warmup`` seconds (none at 0) and is discarded;
    the server is drained after it, so the one-connection run starts on an idle server.
    ``during_load`` (a profiler, a CPU clock) is entered around the full-load run only.
    """

    def wrk(count: int, duration: int) -> WrkResult:
        return run_wrk(url, body_file, connections=count, seconds=duration, headers=headers)

    warmup_errors = wrk(connections, warmup).errors if warmup else 0
    drain(url, body_file.read_bytes(), headers)
    single = wrk(1, seconds)
    with during_load or contextlib.nullcontext():
        loaded = wrk(connections, seconds)
    return WholeResult(single, loaded, warmup_errors)


def _wrk_result(raw: dict[str, float]) -> WrkResult:
    seconds = raw["duration_us"] / 1e6
    # With no request completed, wrk's percentiles read 0: no figure at all is the truth.
    answered = raw["requests"] > 0
    return WrkResult(
        requests=int(raw["requests"]),
        errors=int(raw["errors"]),
        requests_per_s=raw["requests"] / seconds if seconds else 0.0,
        p50_ms=raw["p50_us"] / 1000 if answered else math.nan,
        p99_ms=raw["p99_us"] / 1000 if answered else math.nan,
    )


def drain(url: str, body: bytes, headers: Mapping[str, str]) -> None:
    """Send one request and wait for its answer.

    A server still working through requests that an ended load left queued (LiteLLM, at
    hundreds of milliseconds each) answers this one only after them, so the next
    measurement starts on an idle server.
    """
    request = urllib.request.Request(url, data=body, headers=dict(headers), method="POST")
    request.add_header("Content-Type", "application/json")
    with contextlib.suppress(OSError), urllib.request.urlopen(request, timeout=120) as reply:
        reply.read()


def measure_streams(
    url: str,
    body: bytes,
    *,
    api: Api,
    headers: Mapping[str, str],
    concurrency: int,
    per_connection: int,
    spread_s: float,
    min_events: int,
) -> StreamResult:
    """Time ``concurrency`` connections each streaming ``per_connection`` replies in turn.

    The connections start ``spread_s / concurrency`` apart, so their requests (and then
    their chunks) do not all reach the server in the same instant: what is measured is
    the cost of one stream among several, not the queue of a thundering herd.

    A stream counts as an error unless it answers 200, carries at least ``min_events``
    SSE ``data:`` lines and ends with the closing event of ``api``, the client's API.
    """
    check = _StreamCheck(min_events, STREAM_ENDS[api])
    return asyncio.run(
        _measure(url, body, dict(headers), concurrency, per_connection, spread_s, check)
    )


@dataclass(frozen=True)
class _StreamCheck:
    min_events: int
    end_marker: bytes

    def complete(self, received: bytes) -> bool:
        # LiteLLM ends a Responses stream as it would Chat Completions, with a `[DONE]`
        # after `response.completed`; the stream is whole all the same.
        if self.end_marker != STREAM_ENDS["openai"]:
            received = received.removesuffix(_DONE)
        # The marker names the last event (a Responses stream's last event is long).
        last_event = received[received.rfind(b"\n\n", 0, len(received) - 2) + 2 :]
        return received.count(b"data:") >= self.min_events and self.end_marker in last_event


_DONE = b"data: [DONE]\n\n"


async def _measure(
    url: str,
    body: bytes,
    headers: dict[str, str],
    concurrency: int,
    per_connection: int,
    spread_s: float,
    check: _StreamCheck,
) -> StreamResult:
    headers = {**headers, "Content-Type": "application/json"}
    timeout = aiohttp.ClientTimeout(total=60)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def connection(index: int) -> list[tuple[float, float] | None]:
            await asyncio.sleep(index * spread_s / concurrency)
            return [
                await _one_stream(session, url, body, headers, check) for _ in range(per_connection)
            ]

        outcomes = await asyncio.gather(*(connection(i) for i in range(concurrency)))
    timings = [timing for results in outcomes for timing in results if timing is not None]
    errors = sum(timing is None for results in outcomes for timing in results)
    return _stream_result(timings, errors)


async def _one_stream(
    session: aiohttp.ClientSession,
    url: str,
    body: bytes,
    headers: dict[str, str],
    check: _StreamCheck,
) -> tuple[float, float] | None:
    started = time.perf_counter()
    first_byte = 0.0
    received = bytearray()
    try:
        async with session.post(url, data=body, headers=headers) as response:
            async for chunk in response.content.iter_any():
                if not received:
                    first_byte = time.perf_counter()
                received += chunk
            finished = time.perf_counter()
            if response.status != 200:
                return None
    except (aiohttp.ClientError, TimeoutError):
        return None
    if not check.complete(bytes(received)):
        return None
    return (first_byte - started) * 1000, (finished - started) * 1000


def _stream_result(timings: Sequence[tuple[float, float]], errors: int) -> StreamResult:
    if not timings:
        return StreamResult(0, errors, float("nan"), float("nan"))
    return StreamResult(
        samples=len(timings),
        errors=errors,
        first_byte_ms=statistics.median(first for first, _ in timings),
        total_ms=statistics.median(total for _, total in timings),
    )
