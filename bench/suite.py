"""``bench/run``: the whole comparison, in alternating rounds, ending in one table.

A run starts the mock on the load CPU, then for each round starts every target in turn
(in reverse order every other round, so drift over the run hits both sides of a pair
alike), checks it with the official SDKs, and measures each path:

1. a warm-up at full load, discarded;
2. latency at 1 connection (``wrk``);
3. requests/s and p99 at 32 connections (``wrk``);
4. streams of 64 chunks 20 ms apart: time to the first byte and to the end.

After the rounds, each default-configuration target runs at once with the same without
the access log, for the access log's cost (see :mod:`bench.side_by_side`).

The server under test runs alone on one CPU; the mock, ``wrk``, the stream client and
this driver share the other; both are kept from idling (see :mod:`bench.awake`). The
summary is printed, written between the markers of ``docs/BENCHMARKS.md``, and the raw
figures and every server's log kept in ``bench/results/``.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import shlex
import signal
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import orjson

import llm_gateway
from bench import capacity, litellm_proxy, load, nginx, report, side_by_side, smoke
from bench.awake import cpus_kept_awake
from bench.flamegraphs import find_py_spy, recording
from bench.paths import DIRECT_PATHS, PATHS
from bench.paths import Path as BenchPath
from bench.results import Measurement, Results
from bench.servers import Server, ServerFailed, start_process, stop_tmux_server
from bench.targets import (
    ACCESS_LOGS,
    DASHBOARD_KEY,
    DASHBOARD_QUIET_KEY,
    DASHBOARD_SPREAD_KEY,
    DIRECT,
    GATEWAY_QUIET_KEY,
    LITELLM_KEY,
    NGINX_KEY,
    TARGETS,
    TARGETS_BY_KEY,
    Launch,
    Target,
    write_configs,
)

ROOT = Path(__file__).resolve().parent.parent
MOCK_MODULE = "bench.mock_upstream"
RESULTS_DIR = ROOT / "bench" / "results"
DOCUMENT = ROOT / "docs" / "BENCHMARKS.md"
CLIENT_KEY = litellm_proxy.MASTER_KEY
HEADERS = {
    "Authorization": f"Bearer {CLIENT_KEY}",
    "x-api-key": CLIENT_KEY,
    "anthropic-version": "2023-06-01",
}


@dataclass(frozen=True)
class Settings:
    rounds: int
    seconds: int
    warmup: int
    connections: int
    streams: int
    stream_waves: int
    chunks: int
    interval: float
    targets: tuple[Target, ...]
    write_document: bool
    keep_awake: bool
    py_spy: str | None
    """py-spy's path when ``--profile`` asked for flame graphs."""
    requests: bool = True
    """Whole requests and short streams, every target (all but ``--capacity``)."""
    capacity: capacity.Shape | None = None
    """The capacity streams' shape (none with ``--no-capacity``)."""
    capacity_counts: tuple[int, ...] = ()
    litellm_max_streams: int = 0

    def describe(self) -> str:
        return (
            f"{self.rounds} rounds; per path and round: {self.warmup} s warm-up, "
            f"{self.seconds} s at 1 connection, {self.seconds} s at "
            f"{self.connections} connections, {self.streams * self.stream_waves} streams "
            f"({self.streams} at a time, started {self.interval * 1000 / self.streams:g} ms "
            f"apart) of {self.chunks} chunks {self.interval * 1000:g} ms apart"
        )


@dataclass(frozen=True)
class Cpus:
    server: int | None
    load: int | None

    @classmethod
    def pick(cls) -> Cpus:
        allowed = sorted(os.sched_getaffinity(0))
        if len(allowed) < 2:
            return cls(None, None)
        return cls(allowed[0], allowed[1])

    def describe(self, awake: bool) -> str:
        if self.server is None:
            return "only one CPU: nothing pinned"
        return (
            f"server under test on CPU {self.server}; "
            f"mock, wrk and stream client on CPU {self.load}; "
            + ("both kept awake by SCHED_IDLE spinners" if awake else "CPUs allowed to idle")
        )


def parse_args(argv: Sequence[str]) -> Settings:
    parser = argparse.ArgumentParser(
        prog="bench/run", description="llm-gateway against the mock and LiteLLM, side by side."
    )
    parser.add_argument("--rounds", type=int, default=3, help="A/B rounds (default: %(default)s)")
    parser.add_argument(
        "--seconds", type=int, default=3, help="length of each wrk run (default: %(default)s)"
    )
    parser.add_argument(
        "--warmup", type=int, default=1, help="discarded warm-up (default: %(default)s)"
    )
    parser.add_argument("--connections", type=int, default=32, help="default: %(default)s")
    parser.add_argument(
        "--streams", type=int, default=8, help="concurrent streams (default: %(default)s)"
    )
    parser.add_argument(
        "--stream-waves",
        type=int,
        default=2,
        help="streams per connection, in turn (default: %(default)s)",
    )
    parser.add_argument(
        "--targets",
        default=",".join(TARGETS_BY_KEY),
        help="comma-separated subset of: %(default)s",
    )
    parser.add_argument(
        "--no-write", action="store_true", help="print the table only; leave docs/ alone"
    )
    parser.add_argument(
        "--let-cpus-idle",
        action="store_true",
        help="no SCHED_IDLE spinners (see bench/awake.py): CPU wake-up latency counts",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="py-spy flame graphs of each server at full load, in bench/results/ "
        "(py-spy slows the load side, so docs/ is left alone)",
    )
    only = parser.add_mutually_exclusive_group()
    only.add_argument(
        "--capacity",
        action="store_true",
        help="measure streaming capacity only: many long streams open at once",
    )
    only.add_argument(
        "--no-capacity",
        action="store_true",
        help="measure whole requests and short streams only, not streaming capacity",
    )
    parser.add_argument(
        "--capacity-streams",
        default="200,1000,2000,4000",
        help="concurrent stream counts for capacity (default: %(default)s)",
    )
    parser.add_argument(
        "--capacity-chunks", type=int, default=25, help="chunks per stream (default: %(default)s)"
    )
    parser.add_argument(
        "--capacity-rate", type=float, default=5.0, help="chunks a second (default: %(default)s)"
    )
    parser.add_argument(
        "--capacity-starts",
        type=float,
        default=1000.0,
        help="streams started a second (default: %(default)s)",
    )
    parser.add_argument(
        "--litellm-max-streams",
        type=int,
        default=200,
        help="capacity: LiteLLM only up to this many streams, as it needs about 1 MB "
        "and much CPU per stream (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    py_spy = find_py_spy(ROOT / ".venv") if args.profile else None
    if args.profile and py_spy is None:
        parser.error("--profile needs py-spy: .venv/bin/pip install py-spy")
    keys = [key.strip() for key in args.targets.split(",") if key.strip()]
    unknown = [key for key in keys if key not in TARGETS_BY_KEY]
    if unknown:
        parser.error(f"unknown target(s): {', '.join(unknown)}")
    if args.rounds < 1 or args.seconds <= 0 or args.warmup < 0:
        parser.error("--rounds must be at least 1, --seconds positive, --warmup not negative")
    # The direct run is every other figure's baseline, so it is always path.
    chosen = tuple(t for t in TARGETS if t.key in keys or t is DIRECT)
    shape = (
        None
        if args.no_capacity
        else capacity.Shape(args.capacity_chunks, args.capacity_rate, args.capacity_starts)
    )
    if shape is not None and (shape.chunks < 2 or shape.rate <= 0 or shape.starts_per_s <= 0):
        parser.error("--capacity-chunks must be at least 2, its rate and starts positive")
    return Settings(
        requests=not args.capacity,
        capacity=shape,
        capacity_counts=tuple(sorted(capacity.counts(args.capacity_streams))),
        litellm_max_streams=args.litellm_max_streams,
        rounds=args.rounds,
        seconds=args.seconds,
        warmup=args.warmup,
        connections=args.connections,
        streams=args.streams,
        stream_waves=args.stream_waves,
        chunks=64,
        interval=0.02,
        targets=chosen,
        write_document=not (args.no_write or args.profile),
        keep_awake=not args.let_cpus_idle,
        py_spy=py_spy,
    )


def main(argv: Sequence[str] | None = None) -> int:
    settings = parse_args(sys.argv[1:] if argv is None else argv)
    # SIGTERM ends Python without unwinding: the spinners, the mock, the servers under test
    # and the tmux server would outlive the run and load the machine. Exiting unwinds.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    cpus = Cpus.pick()
    if cpus.load is not None:
        os.sched_setaffinity(0, {cpus.load})
    started = datetime.now(UTC)
    run_dir = RESULTS_DIR / started.strftime("%Y%m%dT%H%M%SZ")
    (run_dir / "logs").mkdir(parents=True)
    if any(target.key == LITELLM_KEY for target in settings.targets):
        litellm_proxy.ensure_venv(run_dir / "logs" / "litellm-install.log")
    # Taken before anything is measured: the first part's table changes docs/ before the
    # second part is written, and the version should read as the tree that was measured.
    info = run_info(started, cpus, settings)

    pinned_cpus = [cpu for cpu in (cpus.server, cpus.load) if cpu is not None]
    with cpus_kept_awake(pinned_cpus if settings.keep_awake else []):
        if settings.requests:
            measure_requests(settings, cpus, run_dir, info)
        if settings.capacity is not None:
            shape = settings.capacity
            capacity.allow_open_files(4 * max(settings.capacity_counts, default=0) + 1024)
            # The capacity streams' own shape: the mock sends it to every stream.
            with running_mock(shape.chunks, 1 / shape.rate, run_dir, "mock-capacity") as mock:
                write_configs(run_dir, mock.base_url)
                measure_capacity(settings, shape, cpus, run_dir, mock, info)
    print(f"raw figures and logs in {run_dir.relative_to(ROOT)}")
    return 0


def measure_requests(settings: Settings, cpus: Cpus, run_dir: Path, info: report.RunInfo) -> None:
    """Whole requests and short streams: every target, every path, in alternating rounds."""
    # Leaving also ends the private tmux server that dashboard rounds may have started.
    with running_mock(settings.chunks, settings.interval, run_dir) as mock:
        try:
            write_configs(run_dir, mock.base_url)
            bench = Bench(settings, cpus, run_dir, mock, write_bodies(run_dir))
            for round_ in range(settings.rounds):
                order = settings.targets if round_ % 2 == 0 else settings.targets[::-1]
                for target in order:
                    bench.measure_target(target, round_)
            for round_ in range(settings.rounds):
                bench.results.peak_rss[DIRECT.key, round_] = mock.peak_rss_bytes()
            for on, off in ACCESS_LOGS.items():
                if {on, off} <= {target.key for target in settings.targets}:
                    bench.measure_side_by_side(TARGETS_BY_KEY[on], TARGETS_BY_KEY[off])
        finally:
            stop_tmux_server()
    section = report.render(bench.results, settings.targets, info)
    raw = orjson.dumps(bench.results.to_json(), option=orjson.OPT_INDENT_2)
    (run_dir / "results.json").write_bytes(raw)
    (run_dir / "report.md").write_text(section, encoding="utf-8")
    print("\n" + section)
    if settings.write_document:
        report.update_document(DOCUMENT, section)
        print(f"written to {DOCUMENT.relative_to(ROOT)}")


DASHBOARDS_AND_QUIET = {DASHBOARD_KEY, DASHBOARD_QUIET_KEY, DASHBOARD_SPREAD_KEY, GATEWAY_QUIET_KEY}
"""Not measured with --capacity: the access log and the dashboard cost per request, not
per chunk, and a stream is one request."""

CAPACITY_PATHS = (BenchPath("openai", "openai"), BenchPath("openai", "anthropic"))
"""An OpenAI client, passed through and translated: the streams coding agents make."""


def measure_capacity(
    settings: Settings,
    shape: capacity.Shape,
    cpus: Cpus,
    run_dir: Path,
    mock: Server,
    info: report.RunInfo,
) -> None:
    """Streaming capacity: each target once, every path, every count (see :mod:`bench.capacity`)."""
    rows: list[capacity.Row] = []
    direct: dict[tuple[str, int], float] = {}
    for target in settings.targets:
        if target.key in DASHBOARDS_AND_QUIET:
            continue
        launch = Launch(run_dir=run_dir, cpu=cpus.server, load_cpu=cpus.load, round=0)
        try:
            server = mock if target.start is None else target.start(launch)
        except ServerFailed as exc:
            print(f"{target.label} did not start:\n{exc}", flush=True)
            continue
        try:
            for path in CAPACITY_PATHS if target.translates else DIRECT_PATHS:
                url, body = server.base_url + path.endpoint, path.body(stream=True)
                end_marker = load.STREAM_ENDS[path.client_api]
                capacity.measure(
                    server,
                    mock,
                    url,
                    body,
                    HEADERS,
                    streams=capacity.WARMUP_STREAMS,
                    shape=shape,
                    end_marker=end_marker,
                )
                for count in settings.capacity_counts:
                    if target.key == LITELLM_KEY and count > settings.litellm_max_streams:
                        continue
                    profile = f"capacity-{target.key}-{path.key}-{count}"
                    ramp_s = count / shape.starts_per_s
                    seconds = math.ceil(ramp_s + capacity.IDLE_S + shape.ideal_s)
                    with Bench.profiling_for(settings, server, mock, run_dir, profile, seconds):
                        result = capacity.measure(
                            server,
                            mock,
                            url,
                            body,
                            HEADERS,
                            streams=count,
                            shape=shape,
                            end_marker=end_marker,
                        )
                    if target is DIRECT:
                        direct[path.key, count] = result.slowest_s
                    baseline = direct.get((path.baseline.key, count))
                    rows.append(
                        capacity.Row(
                            target.key,
                            target.label,
                            path.label,
                            path.is_pass_through,
                            result,
                            baseline,
                        )
                    )
                    print(
                        f"{target.label} · {path.label} · {count:,} streams: "
                        f"{result.completed:,} completed, {result.cpu_per_chunk_us:.1f} µs/chunk, "
                        f"slowest {result.slowest_s:.2f} s, p99 gap {result.gap_p99_ms:.0f} ms, "
                        f"{result.rss_per_stream_bytes / 1024:.1f} KB/stream, "
                        f"load CPU {result.load_cpu_share:.0%}",
                        flush=True,
                    )
        finally:
            if server is not mock:
                server.stop()
    header = (
        f"- Date: {info.date}\n- Command: `{info.command}`\n- CPU: {info.cpu}; {info.pinning}\n"
        f"- Versions: {', '.join(f'{k} {v}' for k, v in info.versions.items())}\n"
    )
    section = capacity.render(rows, shape, header)
    (run_dir / "capacity.md").write_text(section, encoding="utf-8")
    print("\n" + section)
    if settings.write_document:
        report.update_document(DOCUMENT, section, report.STREAMS_START, report.STREAMS_END)
        print(f"written to {DOCUMENT.relative_to(ROOT)}")


def write_bodies(run_dir: Path) -> dict[tuple[str, bool], Path]:
    """Each path's request body as a file for ``wrk``, keyed by (path, streaming)."""
    bodies = {}
    for path in PATHS:
        for stream in (False, True):
            file = run_dir / f"{path.key}{'-stream' if stream else ''}.json"
            file.write_bytes(path.body(stream=stream))
            bodies[path.key, stream] = file
    return bodies


@contextmanager
def running_mock(
    chunks: int, interval: float, run_dir: Path, name: str = "mock"
) -> Iterator[Server]:
    """The mock, on this process's CPU (the load CPU once the driver has moved there)."""
    argv = [sys.executable, "-m", MOCK_MODULE, "--port", "0"]
    argv += ["--chunks", str(chunks), "--interval", str(interval)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    mock = start_process(name, argv, env=env, log_path=run_dir / "logs" / f"{name}.log")
    try:
        yield mock
    finally:
        mock.stop()


@dataclass
class Bench:
    """One run: what stays fixed across its rounds, and the results as they come in."""

    settings: Settings
    cpus: Cpus
    run_dir: Path
    mock: Server
    bodies: dict[tuple[str, bool], Path]
    results: Results = field(init=False)

    def __post_init__(self) -> None:
        self.results = Results(rounds=self.settings.rounds)

    def measure_target(self, target: Target, round_: int) -> None:
        """Start ``target``, check and measure each of its paths, stop it."""
        paths = PATHS if target.translates else DIRECT_PATHS
        try:
            launch = Launch(
                run_dir=self.run_dir, cpu=self.cpus.server, load_cpu=self.cpus.load, round=round_
            )
            server = self.mock if target.start is None else target.start(launch)
        except ServerFailed as exc:
            for path in paths:
                self.results.fail(target.key, path.key, f"did not start: {_first_line(exc)}")
            print(f"round {round_ + 1}: {target.label} did not start:\n{exc}", flush=True)
            return
        try:
            for path in paths:
                progress = (
                    f"round {round_ + 1}/{self.settings.rounds} · {target.label} · {path.label}"
                )
                try:
                    smoke.check(server.base_url, path, CLIENT_KEY, self.settings.chunks)
                except smoke.SmokeFailed as exc:
                    self.results.fail(target.key, path.key, f"wrong answer: {_first_line(exc)}")
                    print(f"{progress}: wrong answer: {exc}", flush=True)
                    continue
                measurement = self.measure_path(server, target, path, round_)
                self.results.add(target.key, path.key, round_, measurement)
                print(f"{progress}: {_summary(measurement)}", flush=True)
            if server is not self.mock:
                self.results.peak_rss[target.key, round_] = server.peak_rss_bytes()
        finally:
            if server is not self.mock:
                server.stop()

    def measure_path(
        self, server: Server, target: Target, path: BenchPath, round_: int
    ) -> Measurement:
        settings = self.settings
        url = server.base_url + path.endpoint
        body = self.bodies[path.key, False]
        whole = load.measure_whole(
            url,
            body,
            headers=HEADERS,
            connections=settings.connections,
            seconds=settings.seconds,
            warmup=settings.warmup,
            during_load=self.profiling(server, f"{target.key}-{path.key}-round{round_ + 1}"),
        )
        single, loaded = whole.single, whole.loaded
        load.drain(url, body.read_bytes(), HEADERS)
        streams = load.measure_streams(
            url,
            self.bodies[path.key, True].read_bytes(),
            api=path.client_api,
            headers=HEADERS,
            concurrency=settings.streams,
            per_connection=settings.stream_waves,
            spread_s=settings.interval,
            min_events=settings.chunks,
        )
        errors = single.errors + loaded.errors + streams.errors
        return Measurement(
            latency_p50_ms=single.p50_ms,
            latency_p99_ms=single.p99_ms,
            requests_per_s=loaded.requests_per_s,
            load_p99_ms=loaded.p99_ms,
            errors=errors + whole.warmup_errors,
            first_byte_ms=streams.first_byte_ms,
            stream_total_ms=streams.total_ms,
        )

    def measure_side_by_side(self, on: Target, off: Target) -> None:
        """``on`` against ``off``, both running for the whole of it (see :mod:`.side_by_side`)."""
        launch = Launch(
            run_dir=self.run_dir,
            cpu=self.cpus.server,
            load_cpu=self.cpus.load,
            round=0,
            part="side-by-side",
        )
        with ExitStack() as stack:
            try:
                on_server = stack.enter_context(_started(on, launch))
                off_server = stack.enter_context(_started(off, launch))
            except ServerFailed as exc:
                for path in PATHS:
                    self.results.fail(
                        on.key, path.key, f"side by side: did not start: {_first_line(exc)}"
                    )
                print(f"side by side: {on.label} or {off.label} did not start:\n{exc}", flush=True)
                return
            for path in PATHS:
                progress = f"side by side · {on.label} and {off.label} · {path.label}"
                try:
                    for server in (on_server, off_server):
                        smoke.check(server.base_url, path, CLIENT_KEY, self.settings.chunks)
                except smoke.SmokeFailed as exc:
                    reason = f"side by side: wrong answer: {_first_line(exc)}"
                    self.results.fail(on.key, path.key, reason)
                    print(f"{progress}: wrong answer: {exc}", flush=True)
                    continue
                figures = side_by_side.measure(
                    on_server,
                    off_server,
                    path.endpoint,
                    self.bodies[path.key, False],
                    headers=HEADERS,
                    connections=self.settings.connections,
                    seconds=self.settings.seconds,
                    warmup=self.settings.warmup,
                )
                self.results.side_by_side[on.key, path.key] = figures
                print(f"{progress}: {side_by_side.summary(figures)}", flush=True)

    def profiling(self, server: Server, name: str) -> AbstractContextManager[None]:
        """A py-spy recording of ``server`` when ``--profile`` asked for it."""
        return self.profiling_for(
            self.settings, server, self.mock, self.run_dir, name, self.settings.seconds
        )

    @staticmethod
    def profiling_for(
        settings: Settings, server: Server, mock: Server, run_dir: Path, name: str, seconds: int
    ) -> AbstractContextManager[None]:
        if settings.py_spy is None or server is mock:
            return nullcontext()
        output = run_dir / "profiles" / f"{name}.svg"
        return recording(settings.py_spy, server.process.pid, seconds, output)


@contextmanager
def _started(target: Target, launch: Launch) -> Iterator[Server]:
    assert target.start is not None, "only a server started for the run is measured side by side"
    server = target.start(launch)
    try:
        yield server
    finally:
        server.stop()


def run_info(started: datetime, cpus: Cpus, settings: Settings) -> report.RunInfo:
    versions = {
        "llm-gateway": f"{llm_gateway.__version__} ({_git_revision()})",
        "Python": platform.python_version(),
        "wrk": _wrk_version(),
        "Linux": platform.release(),
    }
    if any(target.key == LITELLM_KEY for target in settings.targets):
        versions["LiteLLM"] = litellm_proxy.installed_version() or "?"
    if any(target.key == NGINX_KEY for target in settings.targets):
        versions["nginx"] = nginx.version()
    return report.RunInfo(
        date=started.strftime("%Y-%m-%d %H:%M UTC"),
        command=os.environ.get("BENCH_COMMAND") or shlex.join(["bench/run", *sys.argv[1:]]),
        cpu=f"{_cpu_model()} ({os.cpu_count()} CPUs)",
        pinning=cpus.describe(settings.keep_awake),
        versions=versions,
        settings=settings.describe(),
    )


def _summary(m: Measurement) -> str:
    return (
        f"1 conn p50 {m.latency_p50_ms:.2f} ms p99 {m.latency_p99_ms:.2f} ms · "
        f"{m.requests_per_s:,.0f} req/s p99 {m.load_p99_ms:.2f} ms · "
        f"stream first byte {m.first_byte_ms:.1f} ms total {m.stream_total_ms:.0f} ms · "
        f"errors {m.errors}"
    )


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def _wrk_version() -> str:
    done = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    words = (done.stdout + done.stderr).split()
    return words[1] if len(words) > 1 else "?"


def _git_revision() -> str:
    done = subprocess.run(
        ["git", "-C", str(ROOT), "describe", "--always", "--dirty"], capture_output=True, text=True
    )
    return done.stdout.strip() if done.returncode == 0 else "no commit"
