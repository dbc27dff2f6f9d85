"""The dashboard's own CPU cost at 4 fps, in a real pseudo-terminal, at each layout's size.

Each run forks a child on a pty of the given size; the child runs :class:`DashboardApp`
over a synthetic feed that moves as a busy gateway's would: counters and rates change
on every refresh, five log lines arrive per refresh, and every chart gains a point each
second. The parent drains the terminal output (as a terminal emulator would) and reads
the child's CPU time over the measured window, after a warm-up.

Usage: ``.venv/bin/python bench/dashboard_cpu.py [--seconds 20] [--warmup 3]``
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import logging
import math
import os
import pty
import select
import struct
import termios
import time
from typing import Any

import psutil

from llm_gateway import __version__
from llm_gateway.dashboard.app import DashboardApp
from llm_gateway.metrics.log_history import LogHistory, LogReader
from llm_gateway.metrics.snapshot import (
    LogLine,
    ModelStats,
    Percentiles,
    Resources,
    Series,
    Snapshot,
)

SIZES = ((80, 24), (120, 40), (200, 60))
HISTORY = 900
LOG_LINES_PER_REFRESH = 5


class LiveFeed:
    """A feed whose figures move on every call, like a gateway under steady load."""

    version = __version__
    listen_url = "http://127.0.0.1:8000"
    log_level = logging.INFO

    def __init__(self) -> None:
        self.tick = 0
        self.series = Series()
        self.logged = 0
        self.history = LogHistory()

    def snapshot(self) -> Snapshot:
        self.tick += 1
        t = self.tick
        self._log()
        rate = 200 + 150 * math.sin(t / 40)
        p50 = 0.1 + 0.05 * math.sin(t / 13)
        if t % 4 == 0:
            # The aggregator adds one point a second: every fourth refresh.
            s = self.series
            self.series = Series(
                step_s=1.0,
                requests_per_s=(*s.requests_per_s, rate)[-HISTORY:],
                errors_per_s=(*s.errors_per_s, rate * 0.02)[-HISTORY:],
                active_connections=(*s.active_connections, int(rate / 10))[-HISTORY:],
                p50_s=(*s.p50_s, p50)[-HISTORY:],
                p95_s=(*s.p95_s, p50 * 3)[-HISTORY:],
                p99_s=(*s.p99_s, p50 * 8)[-HISTORY:],
                tokens_per_s=(*s.tokens_per_s, rate * 150)[-HISTORY:],
            )
        models = tuple(
            ModelStats(
                f"model-{i}",
                t * (10 - i),
                t // (20 + i),
                Percentiles(p50 * (i + 1), p50 * 3 * (i + 1), p50 * 8 * (i + 1)),
                t * 900 * (10 - i),
                t * 300 * (10 - i),
                (10 - i) / 40,
            )
            for i in range(5)
        )
        return Snapshot(
            uptime_s=t / 4,
            workers=4,
            active_connections=int(rate / 10),
            requests_total=t * 50,
            request_rate=rate,
            errors_total=t,
            errors_by_type={"upstream": t // 2, "timeout": t // 4, "validation": t // 4},
            error_rate_by_type={"upstream": 2.0, "timeout": 1.0, "validation": 1.0},
            error_share_by_type={"upstream": 0.01, "timeout": 0.005, "validation": 0.005},
            latency=Percentiles(p50, p50 * 3, p50 * 8),
            input_tokens_total=t * 45_000,
            output_tokens_total=t * 15_000,
            tokens_per_s=rate * 150,
            last_input_tokens=t % 700,
            last_output_tokens=t % 300,
            avg_input_tokens=250.0,
            avg_output_tokens=90.0,
            models=models,
            resources=Resources(
                35.0 + t % 10, 180_000_000, 150.0, 6_000_000_000, 16_000_000_000, 4
            ),
            series=self.series,
        )

    def _log(self) -> None:
        start, self.logged = self.logged, self.logged + LOG_LINES_PER_REFRESH
        self.history.extend(
            LogLine(
                time.time(),
                logging.INFO,
                "llm_gateway.access",
                f"POST /v1/chat/completions model=model-{n % 5} status=200 n={n}",
            )
            for n in range(start, self.logged)
        )

    def log_reader(self, back: int) -> LogReader:
        return self.history.reader(back=back)

    def print_plain_logs(self, *, catching_up: bool = False) -> None:
        return None


def _child(seconds: float) -> None:
    async def stop_after(pilot: Any) -> None:
        await asyncio.sleep(seconds)
        pilot.app.exit()

    DashboardApp(LiveFeed()).run(auto_pilot=stop_after)


def measure(width: int, height: int, warmup: float, seconds: float) -> float:
    """The dashboard's CPU over ``seconds``, in percent of one core."""
    for name in ("COLUMNS", "LINES"):
        os.environ.pop(name, None)
    os.environ["TERM"] = "xterm-256color"
    pid, master = pty.fork()
    if pid == 0:
        try:
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))
            _child(warmup + seconds + 2)
        finally:
            os._exit(0)
    fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))
    process = psutil.Process(pid)
    marks: list[float] = []
    try:
        for window in (warmup, seconds):
            deadline = time.monotonic() + window
            while time.monotonic() < deadline:
                if select.select([master], [], [], 0.1)[0]:
                    os.read(master, 65536)
            cpu = process.cpu_times()
            marks.append(cpu.user + cpu.system)
        while True:
            if select.select([master], [], [], 0.1)[0]:
                try:
                    os.read(master, 65536)
                except OSError:
                    break
            if os.waitpid(pid, os.WNOHANG)[0]:
                break
    finally:
        os.close(master)
    return (marks[1] - marks[0]) / seconds * 100


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="measured window per size")
    parser.add_argument("--warmup", type=float, default=3.0)
    args = parser.parse_args()
    print(f"dashboard CPU at 4 fps, {args.seconds:g} s per size (percent of one core)")
    for width, height in SIZES:
        cpu = measure(width, height, args.warmup, args.seconds)
        print(f"  {width}x{height}: {cpu:5.1f}%")


if __name__ == "__main__":
    main()
