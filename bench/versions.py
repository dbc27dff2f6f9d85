"""Two versions of the gateway, each from its own source folder, started fresh in turn.

A before/after check (:mod:`bench.relay_cpu`, :mod:`bench.ab_requests`) measures the
version before a change and the one after it on the same machine, minutes apart. Each
round starts each version afresh, pinned to the server CPU, importing ``llm_gateway``
from its folder through ``PYTHONPATH``; the order alternates (A B, then B A), so a
machine that slows down during the run, or a warm cache after the first start, weighs
on both sides alike. The gateway's config routes only the upstream APIs the measured
paths need, so an older version that lacks a later route field still starts.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.paths import Path as BenchPath
from bench.servers import Server, pinned, start_process
from bench.suite import ROOT
from bench.targets import write_gateway_config


def add_arguments(parser: argparse.ArgumentParser, *, rounds: int) -> None:
    """``--before``, ``--after`` and ``--rounds``, as every before/after script takes them."""
    parser.add_argument("--before", type=Path, help="the earlier version's src folder")
    parser.add_argument("--after", type=Path, default=ROOT / "src")
    parser.add_argument("--rounds", type=int, default=rounds)


def sources(args: argparse.Namespace) -> dict[str, Path]:
    """Each version's name and src folder: ``before`` first, if given, then ``after``."""
    chosen = {"after": Path(args.after).resolve()}
    if args.before is not None:
        chosen = {"before": Path(args.before).resolve(), **chosen}
    return chosen


def orders(names: list[str], rounds: int) -> Iterator[tuple[int, list[str]]]:
    """Each round's number and the order its versions run in: as given, then reversed."""
    for round_ in range(rounds):
        yield round_, names if round_ % 2 == 0 else names[::-1]


def write_config(path: Path, mock_url: str, paths: Iterable[BenchPath]) -> None:
    """The bench's routes to the mock, only for the upstream APIs that ``paths`` call."""
    write_gateway_config(path, mock_url, apis={bench_path.upstream_api for bench_path in paths})


@contextmanager
def gateway(source: Path, config: Path, cpu: int | None, log: Path) -> Iterator[Server]:
    """The gateway as ``serve`` starts it, importing ``llm_gateway`` from ``source``."""
    argv = [sys.executable, "-m", "llm_gateway", "serve", "--config", str(config)]
    argv += ["--host", "127.0.0.1", "--port", "0"]
    env = {**os.environ, "PYTHONPATH": f"{source}{os.pathsep}{ROOT}"}
    server = start_process(log.stem, pinned(cpu, argv), env=env, log_path=log)
    try:
        yield server
    finally:
        server.stop()
