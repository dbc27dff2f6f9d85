"""Two configurations of llm-gateway measured at the same time: what the access log costs.

The access log's targets are 5% of requests/s and 0.1 ms of p99 at one connection. On a
shared machine two runs of the same server a minute apart differ by more than that (a
3 s ``wrk`` run here has moved by up to 40% from one to the next), so the rounds of
``bench/run``, which start one target after another, cannot resolve it. Here the default
configuration and the same with ``--log-level warning`` both run, pinned to the server
CPU, for the whole measurement of each path, and whatever slows the machine for a moment
slows both:

- **Requests/s at full load: both at once.** Each gets its own ``wrk`` at the full
  connection count, at the same time. The two servers share the one CPU, so the ratio of
  their requests/s is the inverse ratio of their CPU cost per request. A leg is one such
  run; the figure is a median over legs.
- **Latency at one connection: every other request.** Two servers at one connection
  each would wait for each other, so one client sends its requests to each in turn, one
  at a time, over a keep-alive connection to each, and times every one
  (:func:`alternating_latencies`). A client in Python is slower than ``wrk``; it adds the
  same to both sides, and only their difference is reported.

A server that is not being measured is idle; it still wakes every 250 ms for its metrics
report, which its partner does as well.
"""

from __future__ import annotations

import http.client
import math
import time
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from bench import load
from bench.results import SideBySide, Spread, quantile
from bench.servers import Server

THROUGHPUT_LEGS = 4
"""Full-load runs of both servers at once, per path."""
LATENCY_SECONDS = 10
"""Of requests at one connection, alternating between the two servers, per path."""


def measure(
    on: Server,
    off: Server,
    endpoint: str,
    body: Path,
    *,
    headers: Mapping[str, str],
    connections: int,
    seconds: int,
    warmup: int,
) -> SideBySide:
    """``on`` (the default) against ``off`` on one path; see the module for how."""
    servers = (on, off)
    payload = body.read_bytes()

    def wrk(server: Server, count: int, duration: int) -> load.WrkResult:
        url = server.base_url + endpoint
        return load.run_wrk(url, body, connections=count, seconds=duration, headers=headers)

    def drain() -> None:
        for server in servers:
            load.drain(server.base_url + endpoint, payload, headers)

    errors = 0
    if warmup:
        errors += sum(
            run.errors for run in _at_once(servers, lambda s: wrk(s, connections, warmup))
        )
    drain()
    latencies = alternating_latencies(
        [server.base_url + endpoint for server in servers], payload, headers
    )
    ratios = []
    for leg in range(THROUGHPUT_LEGS):
        on_run, off_run = _at_once(servers, lambda s: wrk(s, connections, seconds), leg % 2 == 1)
        off_rate = off_run.requests_per_s
        ratios.append(on_run.requests_per_s / off_rate if off_rate else math.nan)
        errors += on_run.errors + off_run.errors
    drain()
    errors += latencies.errors
    return SideBySide(
        requests_per_s_ratios=tuple(ratios),
        p99_on_ms=quantile(latencies.seconds[0], 0.99) * 1000,
        p99_off_ms=quantile(latencies.seconds[1], 0.99) * 1000,
        errors=errors,
    )


def summary(figures: SideBySide) -> str:
    """One line of progress: the medians, the p99s, the errors."""
    ratios = Spread.text(Spread.of(list(figures.requests_per_s_ratios)), ".3f")
    return (
        f"req/s ratio {ratios}, "
        f"p99 {figures.p99_on_ms:.2f} against {figures.p99_off_ms:.2f} ms, "
        f"{figures.errors} errors"
    )


@dataclass
class Latencies:
    """What :func:`alternating_latencies` timed."""

    seconds: tuple[list[float], list[float]]
    """Each server's, in the order the URLs were given."""
    errors: int = 0


def alternating_latencies(
    urls: Sequence[str], body: bytes, headers: Mapping[str, str], seconds: float = LATENCY_SECONDS
) -> Latencies:
    """POST ``body`` to each of two URLs in turn, one request at a time, for ``seconds``.

    Each request's time is from before it is sent to after its whole reply is read. A
    reply other than 200, or a connection that fails, counts as an error and its time is
    not kept (``http.client`` connects again for the next request).
    """
    found = Latencies(([], []))
    connections = [_connect(url) for url in urls]
    sent = {**headers, "Content-Type": "application/json"}
    pairs = list(zip(connections, found.seconds, strict=True))
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            # Each server goes first in every other pair, so neither always follows the other.
            pairs.reverse()
            for (connection, target), into in pairs:
                started = time.perf_counter()
                try:
                    connection.request("POST", target, body=body, headers=sent)
                    reply = connection.getresponse()
                    reply.read()
                except (OSError, http.client.HTTPException):
                    connection.close()
                    found.errors += 1
                    continue
                if reply.status == 200:
                    into.append(time.perf_counter() - started)
                else:
                    found.errors += 1
    finally:
        for connection, _ in connections:
            connection.close()
    return found


def _connect(url: str) -> tuple[http.client.HTTPConnection, str]:
    """A keep-alive connection to ``url``'s server, and the path to request on it."""
    parts = urllib.parse.urlsplit(url)
    assert parts.hostname is not None and parts.port is not None, url
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    return connection, parts.path


def _at_once(
    servers: tuple[Server, Server],
    run: Callable[[Server], load.WrkResult],
    second_first: bool = False,
) -> tuple[load.WrkResult, load.WrkResult]:
    """``run`` against both servers at the same time, the results in the servers' order.

    One of the two starts a moment before the other; ``second_first`` says which.
    """
    first, second = servers[::-1] if second_first else servers
    with ThreadPoolExecutor(max_workers=2) as pool:
        started = pool.submit(run, first), pool.submit(run, second)
        results = started[0].result(), started[1].result()
    return results[::-1] if second_first else results
