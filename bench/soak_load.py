"""The soak's load: normal and faulty traffic, hostile connections, and its own counts.

Run by :mod:`bench.soak` in a process of its own (``python -m bench.soak_load URL
SECONDS``), so that its CPU is not the gateway's. Everything goes to 127.0.0.1, and for a
bounded time. At the end it prints one ``SOAK_LOAD {json}`` line: what it sent, what it
saw, and the latencies of the normal requests, minute by minute.

- **Mixed traffic**, ``--rate`` requests a second: half OpenAI and half Anthropic, half of
  them streamed; 10% ask the simulator for a fault (an error status, a reset, garbage, an
  unknown directive), 5% are left by their client half-way, and a few go to the
  misbehaving upstream (one that never answers, stalls mid-stream, streams forever, sends
  a huge body or garbage). Each request's expected outcome is known in advance, so the
  load counts it under the gateway's own classification and flags any surprise.
- **1,000 slowloris connections**, each sending a byte of its headers every few seconds,
  reconnecting when the gateway closes it.
- **1,000 idle keep-alive connections**, each making one request and then waiting,
  reconnecting when closed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import resource
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson
import uvloop

PROMPT = [{"role": "user", "content": "Tell me about the sea."}]


@dataclass(frozen=True)
class Kind:
    """One kind of request: how to ask, and what the gateway must make of it."""

    name: str
    model: str
    stream: bool
    outcome: str
    """``ok``, ``left`` (the client hangs up), or the gateway's error type."""
    status: int
    """The HTTP status the client must see (200 for a stream that fails mid-way)."""
    weight: float


KINDS = [
    Kind("normal", "sim+tokens=20", False, "ok", 200, 0.40),
    Kind("normal stream", "sim+tokens=20+tps=400", True, "ok", 200, 0.40),
    Kind("error status", "sim+status=500", False, "upstream", 500, 0.02),
    Kind("rate limited", "sim+status=429", True, "upstream", 429, 0.02),
    Kind("reset", "sim+reset", False, "upstream", 502, 0.01),
    Kind("reset stream", "sim+reset", True, "upstream", 200, 0.01),
    Kind("garbage stream", "sim+garbage", True, "upstream", 200, 0.02),
    Kind("bad directive", "sim+turbo", False, "validation", 400, 0.02),
    Kind("left waiting", "sim+delay=3000", False, "left", 0, 0.025),
    Kind("left mid-stream", "sim+tokens=60+tps=20", True, "left", 0, 0.025),
    Kind("never answers", "bad-silent", False, "timeout", 504, 0.006),
    Kind("stalls mid-stream", "bad-stall", True, "timeout", 200, 0.006),
    Kind("endless stream", "bad-endless", True, "left", 0, 0.006),
    Kind("huge body", "bad-huge-20000000", False, "upstream", 502, 0.006),
    Kind("garbage upstream", "bad-garbage", False, "upstream", 502, 0.006),
]


@dataclass
class Counts:
    sent: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    surprises: Counter[str] = field(default_factory=Counter)
    normal_failures: int = 0
    latencies_by_minute: dict[int, list[float]] = field(default_factory=dict)
    slowloris_closed: int = 0
    idle_closed: int = 0
    hostile_open_min: int = 1 << 30
    """The fewest hostile connections open at once after the first ramp-up."""


def body(kind: Kind, api: str) -> dict[str, Any]:
    data: dict[str, Any] = {"model": kind.model, "messages": PROMPT, "stream": kind.stream}
    if api == "anthropic":
        data["max_tokens"] = 100
    elif kind.stream:
        data["stream_options"] = {"include_usage": True}
    return data


async def one_request(
    session: aiohttp.ClientSession, url: str, kind: Kind, counts: Counts, started: float
) -> None:
    api = random.choice(("openai", "anthropic"))
    path = "/v1/chat/completions" if api == "openai" else "/v1/messages"
    counts.sent += 1
    begin = time.perf_counter()
    try:
        async with session.post(url + path, json=body(kind, api)) as response:
            if kind.outcome == "left":
                # Hang up at the first byte of a stream, or while a reply is awaited.
                if kind.stream:
                    await response.content.readany()
                raise _Left
            data = await response.read()
    except _Left:
        counts.outcomes["left"] += 1
        return
    except TimeoutError:
        if kind.outcome == "left" and not kind.stream:
            counts.outcomes["left"] += 1
            return
        counts.surprises[f"{kind.name}: client timeout"] += 1
        counts.outcomes[kind.outcome] += 1
        return
    except aiohttp.ClientError as exc:
        counts.surprises[f"{kind.name}: {type(exc).__name__}"] += 1
        counts.outcomes[kind.outcome] += 1
        if kind.outcome == "ok":
            counts.normal_failures += 1
        return
    elapsed = time.perf_counter() - begin
    counts.outcomes[kind.outcome] += 1
    failed_mid_stream = response.status == 200 and kind.stream and b'"error"' in data
    fails_mid_stream = kind.stream and kind.status == 200 and kind.outcome != "ok"
    if response.status != kind.status or failed_mid_stream != fails_mid_stream:
        counts.surprises[f"{kind.name}: {response.status}"] += 1
    if kind.outcome == "ok":
        if response.status != 200 or failed_mid_stream:
            counts.normal_failures += 1
        minute = int((time.monotonic() - started) // 60)
        counts.latencies_by_minute.setdefault(minute, []).append(elapsed)


class _Left(Exception):
    pass


async def mixed_traffic(url: str, rate: float, until: float, counts: Counts) -> None:
    timeout = aiohttp.ClientTimeout(total=60, sock_read=30)
    connector = aiohttp.TCPConnector(limit=400)
    weights = [kind.weight for kind in KINDS]
    started = time.monotonic()
    tasks: set[asyncio.Task[None]] = set()
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        left = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=0.5))
        async with left:
            next_at = time.monotonic()
            while time.monotonic() < until:
                kind = random.choices(KINDS, weights)[0]
                client = left if kind.outcome == "left" and not kind.stream else session
                task = asyncio.create_task(one_request(client, url, kind, counts, started))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
                next_at += random.expovariate(rate)
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            if tasks:
                await asyncio.wait(tasks)


async def slowloris(host: str, port: int, until: float, counts: Counts) -> None:
    """One connection that never finishes its headers; it reconnects whenever closed."""
    while time.monotonic() < until:
        try:
            reader, writer = await asyncio.open_connection(host, port)
        except OSError:
            await asyncio.sleep(1)
            continue
        try:
            writer.write(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            while time.monotonic() < until:
                with contextlib.suppress(TimeoutError):
                    # What the gateway says (a 408) ends with it closing the connection.
                    await asyncio.wait_for(reader.read(), random.uniform(2, 4))
                    break
                writer.write(b"a")
                await writer.drain()
        except (OSError, RuntimeError):
            # uvloop raises RuntimeError on a transport the gateway has just closed.
            pass
        finally:
            writer.close()
        if time.monotonic() < until:
            counts.slowloris_closed += 1


async def idle_keep_alive(host: str, port: int, until: float, counts: Counts) -> None:
    """One kept-alive connection that makes a request, then idles until closed."""
    while time.monotonic() < until:
        try:
            reader, writer = await asyncio.open_connection(host, port)
        except OSError:
            await asyncio.sleep(1)
            continue
        try:
            writer.write(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            await writer.drain()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(reader.read(), max(0.0, until - time.monotonic()))
        except (OSError, RuntimeError):
            pass
        finally:
            writer.close()
        if time.monotonic() < until:
            counts.idle_closed += 1


async def main(url: str, seconds: float, rate: float, hostile: int) -> Counts:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    host, port = url.removeprefix("http://").rsplit(":", 1)
    counts = Counts()
    until = time.monotonic() + seconds
    hostile_tasks = [
        asyncio.create_task(worker(host, int(port), until, counts))
        for worker in (slowloris, idle_keep_alive)
        for _ in range(hostile)
    ]
    await mixed_traffic(url, rate, until, counts)
    await asyncio.gather(*hostile_tasks)
    return counts


def run() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("seconds", type=float)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--hostile", type=int, default=1000, help="slowloris and idle each")
    args = parser.parse_args()
    random.seed(16)
    counts = uvloop.run(main(args.url, args.seconds, args.rate, args.hostile))
    result = {
        "sent": counts.sent,
        "outcomes": dict(counts.outcomes),
        "surprises": dict(counts.surprises),
        "normal_failures": counts.normal_failures,
        "latencies_by_minute": {
            str(minute): sorted(values) for minute, values in counts.latencies_by_minute.items()
        },
        "slowloris_closed": counts.slowloris_closed,
        "idle_closed": counts.idle_closed,
    }
    print("SOAK_LOAD " + orjson.dumps(result).decode(), flush=True)


if __name__ == "__main__":
    run()
