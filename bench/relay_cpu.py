"""CPU per relayed chunk, two versions of the gateway side by side: a before/after check.

``bench/run --capacity`` measures one version; a change to the relay needs the version
before it and the one after, on the same machine, minutes apart. This script runs both
from their source folders (``PYTHONPATH``) in alternating order (A B, B A, ...), each
started fresh, pinned to the server CPU, and measures the same streams through each with
:func:`bench.capacity.measure`: the server tree's CPU time over the chunks relayed, which
other work on the machine disturbs far less than wall time does. It prints each version's
median with [min, max] per path, beside the slowest stream's time over the ideal, a wall
time (the figure the 2,000-stream target is about; noisier)::

    git archive main src | tar -x -C /tmp/before
    .venv/bin/python -m bench.relay_cpu --before /tmp/before/src --rounds 4

Without ``--before`` it measures the working tree alone.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bench import capacity, load, versions
from bench.paths import Path as BenchPath
from bench.results import Spread
from bench.suite import HEADERS, Cpus, running_mock

PATHS = {
    "openai-pass": BenchPath("openai", "openai"),
    "openai-translated": BenchPath("openai", "anthropic"),
    "anthropic-pass": BenchPath("anthropic", "anthropic"),
    "anthropic-translated": BenchPath("anthropic", "openai"),
    "responses-pass": BenchPath("responses", "responses"),
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.relay_cpu", description=__doc__)
    versions.add_arguments(parser, rounds=3)
    parser.add_argument("--streams", type=int, default=400)
    parser.add_argument("--chunks", type=int, default=50)
    parser.add_argument("--rate", type=float, default=20.0, help="chunks a second per stream")
    parser.add_argument("--paths", default="openai-pass,openai-translated")
    args = parser.parse_args(argv)
    paths = [PATHS[key] for key in args.paths.split(",")]
    sources = versions.sources(args)
    shape = capacity.Shape(args.chunks, args.rate, starts_per_s=1000.0)
    capacity.allow_open_files(4 * args.streams + 1024)
    cpus = Cpus.pick()
    if cpus.load is not None:
        os.sched_setaffinity(0, {cpus.load})
    figures: dict[tuple[str, str], list[capacity.CapacityResult]] = {}
    with tempfile.TemporaryDirectory() as folder:
        run_dir = Path(folder)
        (run_dir / "logs").mkdir()
        with running_mock(args.chunks, 1 / args.rate, run_dir) as mock:
            config = run_dir / "gateway.toml"
            versions.write_config(config, mock.base_url, paths)
            for round_, order in versions.orders(list(sources), args.rounds):
                for name in order:
                    log = run_dir / "logs" / f"{name}-{round_}.log"
                    with versions.gateway(sources[name], config, cpus.server, log) as server:
                        for path in paths:
                            url = server.base_url + path.endpoint
                            body = path.body(stream=True)
                            end = load.STREAM_ENDS[path.client_api]
                            for streams in (capacity.WARMUP_STREAMS, args.streams):
                                result = capacity.measure(
                                    server, mock, url, body, HEADERS,
                                    streams=streams, shape=shape, end_marker=end,
                                )  # fmt: skip
                            figures.setdefault((name, path.key), []).append(result)
                            print(
                                f"round {round_ + 1} {name:6} {path.key:20} "
                                f"{result.cpu_per_chunk_us:6.1f} µs/chunk, "
                                f"{result.completed}/{result.streams} complete, "
                                f"slowest {result.slowest_s:.2f} s",
                                flush=True,
                            )
    print(
        f"\nMedian [min, max] of {args.rounds} rounds; slowest stream ÷ ideal ({shape.ideal_s:g} s):"
    )
    for path in paths:
        for name in sources:
            cpu = [result.cpu_per_chunk_us for result in figures[name, path.key]]
            slowest = [result.slowest_s / shape.ideal_s for result in figures[name, path.key]]
            print(
                f"  {path.key:20} {name:6} {Spread.text(Spread.of(cpu), '.1f')} µs per chunk, "
                f"slowest {Spread.text(Spread.of(slowest), '.3f')}x"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
