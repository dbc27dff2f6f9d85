"""Whole (non-streamed) requests through two versions of the gateway: a before/after check.

``bench/run`` measures one version against the mock and other proxies; a change on the
request path needs the version before it and the one after, on the same machine,
minutes apart. This script starts both from their source folders in alternating rounds
(see :mod:`bench.versions`), checks each with the official SDKs (:mod:`bench.smoke`),
and measures each path as ``bench/run`` does, with ``wrk``: a discarded warm-up, the
latency at 1 connection, then requests/s at 32, with the gateway's CPU time per request
over that run (which other work on a shared machine disturbs far less than req/s). Each
round also measures the mock directly, and the added latency is the gateway's minus the
mock's of the same round.
The gateway runs on the server CPU, the mock and ``wrk`` on the other, both kept from
idling (see :mod:`bench.awake`). It prints each figure's median with [min, max] over the
rounds and the after/before ratio of the medians::

    git archive main src | tar -x -C /tmp/before
    .venv/bin/python -m bench.ab_requests --before /tmp/before/src --rounds 6

Run with ``--before src`` (the same tree twice) to see the noise floor of the method.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench import load, smoke, versions
from bench.awake import cpus_kept_awake
from bench.paths import PATHS
from bench.paths import Path as BenchPath
from bench.results import Spread
from bench.servers import Server
from bench.suite import CLIENT_KEY, HEADERS, Cpus, running_mock

PATHS_BY_KEY = {path.key: path for path in PATHS}
CHUNKS, INTERVAL = 64, 0.02
"""The mock's streamed replies as ``bench/run`` shapes them: the smoke check streams one."""


@dataclass(frozen=True)
class Figures:
    """One version on one path in one round."""

    requests_per_s: float
    """At full load."""
    cpu_per_request_us: float
    """At full load: the gateway's CPU time (every process of it) per request answered."""
    added_p50_ms: float
    """At one connection, minus the mock's in the same round; so are the p99s."""
    added_p99_ms: float
    errors: int


@dataclass(frozen=True)
class Row:
    label: str
    value: Callable[[Figures], float]
    spec: str


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ab_requests", description=__doc__)
    versions.add_arguments(parser, rounds=4)
    parser.add_argument("--seconds", type=int, default=3, help="length of each wrk run")
    parser.add_argument("--warmup", type=int, default=1, help="discarded warm-up, in seconds")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--paths", default="openai-pass,anthropic-pass")
    parser.add_argument(
        "--let-cpus-idle", action="store_true", help="no SCHED_IDLE spinners (see bench/awake.py)"
    )
    args = parser.parse_args(argv)
    paths = [PATHS_BY_KEY[key] for key in args.paths.split(",")]
    sources = versions.sources(args)
    cpus = Cpus.pick()
    if cpus.load is not None:
        os.sched_setaffinity(0, {cpus.load})
    pinned = [cpu for cpu in (cpus.server, cpus.load) if cpu is not None]
    figures: dict[tuple[str, str], list[Figures]] = {}
    with tempfile.TemporaryDirectory() as folder:
        run_dir = Path(folder)
        (run_dir / "logs").mkdir()
        bodies = {path.key: run_dir / f"{path.key}.json" for path in paths}
        for path in paths:
            bodies[path.key].write_bytes(path.body(stream=False))
        awake = cpus_kept_awake([] if args.let_cpus_idle else pinned)
        with awake, running_mock(CHUNKS, INTERVAL, run_dir) as mock:
            config = run_dir / "gateway.toml"
            versions.write_config(config, mock.base_url, paths)

            def measure(server: Server, path: BenchPath) -> tuple[load.WholeResult, float]:
                """The ``wrk`` runs, and the server's CPU seconds during the full load."""
                cpu: list[float] = []
                whole = load.measure_whole(
                    server.base_url + path.endpoint,
                    bodies[path.key],
                    headers=HEADERS,
                    connections=args.connections,
                    seconds=args.seconds,
                    warmup=args.warmup,
                    during_load=cpu_used(server, cpu),
                )
                return whole, cpu[0]

            for round_, order in versions.orders(list(sources), args.rounds):
                direct = {path.key: measure(mock, path.baseline)[0].single for path in paths}
                for name in order:
                    log = run_dir / "logs" / f"{name}-{round_}.log"
                    with versions.gateway(sources[name], config, cpus.server, log) as server:
                        for path in paths:
                            smoke.check(server.base_url, path, CLIENT_KEY, CHUNKS)
                            whole, cpu_s = measure(server, path)
                            single, baseline = whole.single, direct[path.key]
                            result = Figures(
                                requests_per_s=whole.loaded.requests_per_s,
                                cpu_per_request_us=cpu_s / max(whole.loaded.requests, 1) * 1e6,
                                added_p50_ms=single.p50_ms - baseline.p50_ms,
                                added_p99_ms=single.p99_ms - baseline.p99_ms,
                                errors=whole.warmup_errors + single.errors + whole.loaded.errors,
                            )
                            figures.setdefault((name, path.key), []).append(result)
                            print(
                                f"round {round_ + 1} {name:6} {path.key:14} "
                                f"{result.requests_per_s:6,.0f} req/s "
                                f"{result.cpu_per_request_us:4.0f} µs CPU each, added p50 "
                                f"{result.added_p50_ms:.3f} ms p99 {result.added_p99_ms:.3f} ms, "
                                f"{result.errors} errors",
                                flush=True,
                            )
    print()
    print(render(figures, paths, list(sources), args.rounds, args.connections))
    return 0


@contextmanager
def cpu_used(server: Server, into: list[float]) -> Iterator[None]:
    """Append to ``into`` the CPU seconds ``server`` spent inside the block."""
    before = server.cpu_seconds()
    yield
    into.append(server.cpu_seconds() - before)


def render(
    figures: dict[tuple[str, str], list[Figures]],
    paths: Sequence[BenchPath],
    names: Sequence[str],
    rounds: int,
    connections: int,
) -> str:
    """A Markdown table: per path and figure, each version's median [min, max], the ratio."""
    rows = (
        Row(f"req/s at {connections} connections", lambda f: f.requests_per_s, ",.0f"),
        Row("CPU per request at full load (µs)", lambda f: f.cpu_per_request_us, ".0f"),
        Row("added p50 at 1 connection (ms)", lambda f: f.added_p50_ms, ".3f"),
        Row("added p99 at 1 connection (ms)", lambda f: f.added_p99_ms, ".3f"),
    )
    ratio = len(names) == 2
    header = ["Path", "Figure", *names, *([f"{names[1]}/{names[0]}"] if ratio else [])]
    lines = [
        f"Whole requests, median [min, max] of {rounds} rounds",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    for path in paths:
        for row in rows:
            spreads = [Spread.of([row.value(f) for f in figures[name, path.key]]) for name in names]
            cells = [path.label, row.label, *(Spread.text(spread, row.spec) for spread in spreads)]
            if ratio:
                cells.append(_ratio(*spreads))
            lines.append("| " + " | ".join(cells) + " |")
    errors = {name: sum(f.errors for p in paths for f in figures[name, p.key]) for name in names}
    lines += ["", "Failed requests: " + ", ".join(f"{n} {e}" for n, e in errors.items())]
    return "\n".join(lines)


def _ratio(before: Spread | None, after: Spread | None) -> str:
    if before is None or after is None or before.median == 0:
        return "n/a"
    return f"{after.median / before.median:.2f}"


if __name__ == "__main__":
    raise SystemExit(main())
