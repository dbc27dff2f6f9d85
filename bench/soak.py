"""The soak and abuse run: hostile traffic for minutes, then a verdict.

``python -m bench.soak --minutes 10`` (not part of ``make test``) runs, on 127.0.0.1 only:

- the gateway with ``--workers 2``, its supervisor in this process so that the counters the
  dashboard draws can be read directly (:meth:`Supervisor.snapshot`);
- the misbehaving upstream of ``tests/fakes/hostile_upstream.py`` behind ``bad-*`` models;
- the load of :mod:`bench.soak_load` in a process of its own.

Every ``--sample`` seconds it records the RSS and open file descriptors of the supervisor
and of each worker. At the end it prints the figures and a verdict:

- **flat**: RSS and fds of every process grow less than 5% from minute 2 to the end
  (workers are compared by slot: a restarted worker would show as a failure elsewhere);
- **accounted**: the supervisor's totals (requests, each error type, client-closed) equal
  what the load generator counted on its side, and nothing surprised it;
- **answered**: no normal request failed, with the p99 of normal requests each minute.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import psutil

from bench.results import quantile
from llm_gateway.config import load_config
from llm_gateway.server import bind_socket
from llm_gateway.supervisor import ServeOptions, Supervisor

ROOT = Path(__file__).resolve().parents[1]
GROWTH_LIMIT = 0.05

CONFIG = """
header_timeout = 10
body_timeout = 10

[[models]]
name = "bad-*"
provider = "openai"
base_url = "{upstream}/v1"
read_timeout = 3
max_response_bytes = 1048576

[[models]]
name = "*"
provider = "sim"
read_timeout = 10
"""


@dataclass
class Sample:
    at_s: float
    rss: dict[str, int]
    fds: dict[str, int]


def start_upstream() -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.hostile_upstream", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    match = re.search(r"listening on (http://\S+)", line)
    if match is None:
        process.kill()
        raise SystemExit(f"the hostile upstream did not start: {line!r}")
    return process, match.group(1)


def sample(supervisor: Supervisor, started: float) -> Sample:
    rss: dict[str, int] = {}
    fds: dict[str, int] = {}
    processes = {"supervisor": os.getpid()}
    processes |= {f"worker {i + 1}": pid for i, pid in enumerate(sorted(supervisor.worker_pids()))}
    for name, pid in processes.items():
        try:
            process = psutil.Process(pid)
            rss[name] = process.memory_info().rss
            fds[name] = process.num_fds()
        except psutil.NoSuchProcess:
            continue
    return Sample(time.monotonic() - started, rss, fds)


async def soak(minutes: float, rate: float, hostile: int, every_s: float) -> dict[str, Any]:
    upstream, upstream_url = start_upstream()
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "soak.toml"
        path.write_text(CONFIG.format(upstream=upstream_url))
        config = load_config(path)
    listener = bind_socket("127.0.0.1", 0)
    supervisor = Supervisor(
        ServeOptions(config=config, workers=2, grace_period_s=5, log_level=logging.ERROR),
        listener,
    )
    running = asyncio.create_task(supervisor.run())
    samples: list[Sample] = []
    try:
        while not supervisor.serving.is_set():
            if running.done():
                raise SystemExit("the gateway did not start")
            await asyncio.sleep(0.05)
        started = time.monotonic()
        load = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.soak_load",
            supervisor.listen_url,
            str(minutes * 60),
            "--rate",
            str(rate),
            "--hostile",
            str(hostile),
            stdout=asyncio.subprocess.PIPE,
            cwd=ROOT,
        )
        assert load.stdout is not None
        output = asyncio.create_task(load.stdout.read())
        while load.returncode is None:
            samples.append(sample(supervisor, started))
            print(_progress(samples[-1], supervisor), file=sys.stderr, flush=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(load.wait(), every_s)
        lines = [
            line for line in (await output).decode().splitlines() if line.startswith("SOAK_LOAD ")
        ]
        if not lines:
            raise SystemExit("the load generator failed (its error is above)")
        counts = orjson.loads(lines[-1].removeprefix("SOAK_LOAD "))
        # The last requests finish and the last reports arrive.
        for _ in range(60):
            if not supervisor.snapshot().active_connections:
                break
            await asyncio.sleep(0.25)
        await asyncio.sleep(1)
        settled = sample(supervisor, started)
        snapshot = supervisor.snapshot()
    finally:
        supervisor.stop()
        await running
        listener.close()
        upstream.terminate()
        upstream.wait(10)
    return {
        "counts": counts,
        "snapshot": snapshot,
        "samples": samples,
        "settled": settled,
        "minutes": minutes,
    }


def _progress(latest: Sample, supervisor: Supervisor) -> str:
    snapshot = supervisor.snapshot()
    rss = " ".join(f"{name}={value / 1e6:.0f}MB" for name, value in latest.rss.items())
    fds = " ".join(f"{value}" for value in latest.fds.values())
    return (
        f"{latest.at_s:6.0f}s requests={snapshot.requests_total} open={snapshot.connections.open}"
        f" slow-closed={snapshot.connections.closed_slow} rss: {rss} fds: {fds}"
    )


def verdict(result: dict[str, Any]) -> tuple[bool, list[str]]:
    counts, snapshot, samples = result["counts"], result["snapshot"], result["samples"]
    lines: list[str] = []
    ok = True

    # Flat: the mean over minute 2 against the mean over the last minute of load. Single
    # samples are noisy: 2,000 hostile connections churn, and land on either worker.
    minute_2 = [s for s in samples if 120 <= s.at_s < 180] or samples[:1]
    last_minute = [s for s in samples if s.at_s >= samples[-1].at_s - 60]
    lines.append("| process | RSS, minute 2 | RSS, last minute | growth |")
    lines.append("| --- | --- | --- | --- |")
    for name in samples[0].rss:
        before = _mean([s.rss[name] for s in minute_2 if name in s.rss])
        after = _mean([s.rss[name] for s in last_minute if name in s.rss])
        growth = after / before - 1
        ok &= growth < GROWTH_LIMIT
        lines.append(f"| {name} | {before / 1e6:.1f} MB | {after / 1e6:.1f} MB | {growth:+.1%} |")
    before = _mean([sum(s.fds.values()) for s in minute_2])
    after = _mean([sum(s.fds.values()) for s in last_minute])
    ok &= after / before - 1 < GROWTH_LIMIT
    lines.append(
        f"| open fds, all processes | {before:.0f} | {after:.0f} | {after / before - 1:+.1%} |"
    )
    settled = result["settled"]
    lines.append(
        f"\nOnce the load stopped: fds {settled.fds}, RSS"
        f" { {name: f'{rss / 1e6:.1f} MB' for name, rss in settled.rss.items()} }"
        f" (at start: fds {samples[0].fds})"
    )

    # Accounted: the supervisor's counters against the load's own.
    outcomes = counts["outcomes"]
    pairs = [
        ("requests", snapshot.requests_total, counts["sent"]),
        ("client closed (499)", snapshot.client_closed_total, outcomes.get("left", 0)),
    ] + [
        (f"{kind} errors", snapshot.errors_by_type.get(kind, 0), outcomes.get(kind, 0))
        for kind in ("upstream", "timeout", "validation", "auth", "internal")
    ]
    lines.append("\n| counter | dashboard (supervisor) | load generator |")
    lines.append("| --- | --- | --- |")
    for name, gateway, load in pairs:
        ok &= gateway == load
        lines.append(f"| {name} | {gateway} | {load}{'' if gateway == load else '  MISMATCH'} |")
    if counts["surprises"]:
        ok = False
        lines.append(f"\nSurprises (answers other than expected): {counts['surprises']}")
    connections = snapshot.connections
    lines.append(
        f"\nConnections closed for slowness (dashboard): {connections.closed_slow};"
        f" refused at the cap: {connections.refused}."
        f" Slowloris reconnects (load): {counts['slowloris_closed']};"
        f" idle keep-alive reconnects: {counts['idle_closed']}."
    )

    # Answered: normal requests, minute by minute.
    ok &= counts["normal_failures"] == 0
    lines.append(f"\nNormal requests that failed: {counts['normal_failures']}")
    lines.append("\n| minute | normal requests | p50 | p99 |")
    lines.append("| --- | --- | --- | --- |")
    for minute, latencies in sorted(counts["latencies_by_minute"].items(), key=lambda i: int(i[0])):
        lines.append(
            f"| {int(minute) + 1} | {len(latencies)} | {quantile(latencies, 0.5) * 1000:.1f} ms"
            f" | {quantile(latencies, 0.99) * 1000:.1f} ms |"
        )
    return ok, lines


def _mean(values: list[float] | list[int]) -> float:
    return sum(values) / len(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=100.0, help="mixed requests per second")
    parser.add_argument("--hostile", type=int, default=1000, help="slowloris and idle, each")
    parser.add_argument("--sample", type=float, default=10.0, help="seconds between samples")
    args = parser.parse_args()
    result = asyncio.run(soak(args.minutes, args.rate, args.hostile, args.sample))
    ok, lines = verdict(result)
    print("\n".join(lines))
    print(f"\nVERDICT: {'PASS' if ok else 'FAIL'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
