"""The supervisor: bind, start the workers, merge what they report, restart, shut down.

It runs one asyncio loop that never serves a request, and that loop runs at idle CPU
priority (see :mod:`.processes`), so neither drawing the dashboard nor writing the access
log delays a request.
Per worker, one task owns the whole life of the process: start it, read its reports and
its stray output until both end, note how it ended, and start it again unless the
gateway is stopping. Shutting down is the same task seeing the stop event: it closes the
worker's channel (the worker stops accepting and finishes its in-flight requests within
the grace period), reads the last report, and kills the process only if it outstays the
grace period.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pickle
import signal
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from llm_gateway import __version__
from llm_gateway.config import GatewayConfig
from llm_gateway.control.paths import default_socket_path
from llm_gateway.metrics.aggregator import Aggregator
from llm_gateway.metrics.log_history import LogHistory, LogReader
from llm_gateway.metrics.resources import ResourceSampler
from llm_gateway.metrics.snapshot import LogLine, Snapshot
from llm_gateway.server import bind_socket, is_loopback, listen_url
from llm_gateway.supervisor.channel import WorkerSetup, decode_report, read_frame, write_frame
from llm_gateway.supervisor.control import (
    DEFAULT_BUFFER_BYTES,
    ControlServer,
    ControlSocketError,
    bind_control_socket,
)
from llm_gateway.supervisor.logs import HistoryHandler, format_plain_batch
from llm_gateway.supervisor.processes import (
    Spawner,
    WorkerProcess,
    raise_open_files_limit,
    run_at_idle_priority,
)
from llm_gateway.supervisor.watchdog import CHECK_INTERVAL_S, Watchdog

logger = logging.getLogger("llm_gateway.supervisor")

PRINT_INTERVAL_S = 0.25
SAMPLE_INTERVAL_S = 1.0
OUTPUT_LOGGER = "llm_gateway.worker.output"
OUTPUT_LINE_LIMIT = 1 << 20
KILL_MARGIN_S = 5.0
"""How long past the grace period a stopping worker may take before it is killed."""
STEADY_AFTER_S = 10.0
"""A worker that ran this long before dying is restarted at once; quicker deaths back off."""
MAX_RESTART_DELAY_S = 10.0
FDS_BESIDES_CONNECTIONS = 64
"""File descriptors a worker holds besides client connections (and its upstream ones)."""
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
"""Each begins a graceful stop; a second one stops at once."""
SAME_STOP_S = 1.0
"""A stop signal this soon after the first is the same request, not a second one.

GNU ``timeout`` sends its signal twice, to the gateway and then to its whole process
group (the gateway is in it); ``kill`` of a process group and service managers can do
the same. Taken as a second signal, that would kill every in-flight request instead of
letting it finish. A person who means "now" presses Ctrl+C again a moment later.
"""
CATCH_UP_LINES = 1000
"""At most this many lines are printed when plain logs take over from the dashboard."""


@dataclass(frozen=True)
class ServeOptions:
    config: GatewayConfig
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    grace_period_s: float = 10.0
    log_level: int = logging.INFO
    console: bool = False
    """Run the terminal console (the dashboard with plain logs behind it)."""
    dashboard: bool = False
    """With the console: start with the dashboard showing."""
    supervisor_at_idle_priority: bool = False
    """Do the supervisor's own work (the console, the log lines, ``top``'s feed) at idle
    CPU priority (see :mod:`.processes`). ``serve`` does unless told otherwise; here it is
    off, because it lowers the calling thread for good, and a test's supervisor runs on
    the test runner's thread."""
    demo: bool = False
    """Send demo traffic to ourselves once listening."""
    stall_after_s: float = 3.0
    """A worker silent this long (it reports every 250 ms) is logged and shown as stalled."""
    restart_stalled_after_s: float = 30.0
    """A worker silent this long is killed, and so restarted."""
    control: bool = True
    """Open the control socket that ``llm-gateway top`` attaches to."""
    control_socket: Path | None = None
    """Where; by default in the user's runtime directory, named after the port."""
    viewer_buffer_bytes: int = DEFAULT_BUFFER_BYTES
    """What may wait for one ``top`` before it is dropped as stalled."""


def serve(options: ServeOptions) -> int:
    """Run the gateway until SIGTERM, SIGINT, SIGHUP or the console quits; the exit status."""
    try:
        listener = bind_socket(options.host, options.port)
    except OSError as exc:
        print(
            f"llm-gateway: cannot listen on {options.host}:{options.port}: {exc.strerror}",
            file=sys.stderr,
        )
        return 1
    with listener:
        control = None
        if options.control:
            # Named after the port we got, which --port 0 leaves to the OS.
            port = listener.getsockname()[1]
            path = options.control_socket or default_socket_path(port)
            try:
                control = bind_control_socket(path, default_location=options.control_socket is None)
            except ControlSocketError as exc:
                print(f"llm-gateway: control socket: {exc}", file=sys.stderr)
                return 2
        return asyncio.run(Supervisor(options, listener, control).run())


@dataclass
class _Worker:
    index: int
    process: WorkerProcess
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter


class Supervisor:
    """Owns the workers and the metrics; the console reads it as a ``ConsoleFeed``."""

    version = __version__

    def __init__(
        self,
        options: ServeOptions,
        listener: socket.socket,
        control: socket.socket | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``control``: the bound control socket, served while the gateway runs;
        ``clock``: what tells a repeated stop signal from a second one (for tests)."""
        self.options = options
        self._clock = clock
        self._signalled_at: float | None = None
        """When the first stop signal came."""
        self.listen_url = listen_url(listener)
        self._listener = listener
        self._control = (
            None
            if control is None
            else ControlServer(control, self, buffer_bytes=options.viewer_buffer_bytes)
        )
        self._aggregator = Aggregator(connection_limits=options.config.connections)
        self._sampler = ResourceSampler()
        self.log_history = LogHistory()
        self._log_handler = HistoryHandler(self.log_history)
        self._printed = self.log_history.reader()
        """What stdout has shown: plain logs print from here, whichever view came before."""
        self._workers: dict[int, _Worker] = {}
        self._watchdog = Watchdog(options.stall_after_s, options.restart_stalled_after_s)
        self._spawner = Spawner(OUTPUT_LINE_LIMIT)
        self._stop = asyncio.Event()
        self._served: set[int] = set()
        """Worker slots whose process has served at least once."""
        self.serving = asyncio.Event()
        """Set once every worker has started serving."""
        self._failed = asyncio.Event()
        """Set when the gateway cannot go on: a worker died before it ever served, or the
        console crashed. The exit status is then 1."""

    def stop(self) -> None:
        """Begin a graceful shutdown, as SIGTERM does."""
        self._stop.set()

    def _interrupted(self) -> None:
        """SIGINT, SIGTERM or SIGHUP: the first stops gracefully, a second stops at once.

        SIGHUP is what a closed terminal or ssh session sends: for a gateway in the
        foreground that is a graceful stop too (nginx reloads its config on it instead).
        One that comes within :data:`SAME_STOP_S` of the first repeats it.
        """
        now = self._clock()
        if self._stop.is_set():
            if self._signalled_at is not None and now - self._signalled_at < SAME_STOP_S:
                logger.info(
                    "another stop signal within %g s of the first: still stopping gracefully",
                    SAME_STOP_S,
                )
                return
            logger.warning("stopping at once: killing the workers")
            for worker in self._workers.values():
                worker.process.kill()
        else:
            self._signalled_at = now
        self.stop()

    def worker_pids(self) -> list[int]:
        return [worker.process.pid for worker in self._workers.values()]

    def snapshot(self) -> Snapshot:
        return replace(self._aggregator.snapshot(), stalled_workers=self._watchdog.stalled)

    @property
    def log_level(self) -> int:
        return self.options.log_level

    def log_reader(self, back: int) -> LogReader:
        return self.log_history.reader(back=back)

    def print_plain_logs(self, *, catching_up: bool = False) -> None:
        text = format_plain_batch(self._printed.read(CATCH_UP_LINES if catching_up else None))
        if text:
            # A terminal that hung up (SIGHUP) fails every write; the stop goes on anyway.
            with contextlib.suppress(OSError):
                sys.stdout.write(text)
                sys.stdout.flush()

    async def run(self) -> int:
        """Serve until :meth:`stop`, a stop signal or the console quits; the exit status."""
        root = logging.getLogger()
        level = root.level
        root.addHandler(self._log_handler)
        root.setLevel(self.options.log_level)
        loop = asyncio.get_running_loop()
        for sig in STOP_SIGNALS:
            loop.add_signal_handler(sig, self._interrupted)
        try:
            return await self._run()
        finally:
            for sig in STOP_SIGNALS:
                loop.remove_signal_handler(sig)
            root.removeHandler(self._log_handler)
            root.setLevel(level)
            self._spawner.close()

    async def _run(self) -> int:
        options = self.options
        open_files = raise_open_files_limit()
        logger.info(
            "llm-gateway %s starting %d worker(s) on %s (config: %s; open files: %s each,"
            " upstream connections: %s each); Ctrl+C stops",
            __version__,
            options.workers,
            self.listen_url,
            options.config.source,
            f"{open_files:,}",
            f"{options.config.max_upstream_connections:,}",
        )
        cap = options.config.connections.max_connections
        if cap + FDS_BESIDES_CONNECTIONS > open_files:
            logger.warning(
                "max_connections (%s per worker) is above what the open-files limit (%s)"
                " allows: past about %s open connections a worker's new ones fail with a"
                " reset instead of a 503; lower max_connections or raise the limit",
                f"{cap:,}",
                f"{open_files:,}",
                f"{max(open_files - FDS_BESIDES_CONNECTIONS, 0):,}",
            )
        if not options.config.client_keys and not is_loopback(options.host):
            logger.warning(
                "no API keys are configured and %s is not a loopback address:"
                " anyone who can reach it can use it",
                options.host,
            )
        keepers = [
            asyncio.create_task(self._keep(index)) for index in range(1, options.workers + 1)
        ]
        printer = None if options.console else asyncio.create_task(self._print_plain_forever())
        if self._control is not None:
            await self._control.start()
        await _first_of(self.serving, self._failed, self._stop)
        if self.serving.is_set() and not self._failed.is_set():
            control = "" if self._control is None else f"; control: {self._control.path}"
            print(
                f"llm-gateway {__version__} listening on {self.listen_url}"
                f" (config: {options.config.source}{control})",
                flush=True,
            )
            await self._serve()
        self._stop.set()
        if printer is None:
            # What was logged under the dashboard, so the terminal keeps the log.
            self.print_plain_logs(catching_up=True)
            printer = asyncio.create_task(self._print_plain_forever())
        logger.info("stopping: in-flight requests have %gs to finish", options.grace_period_s)
        self._listener.close()
        await asyncio.gather(*keepers)
        if self._control is not None:
            await self._control.close(f"the gateway at {self.listen_url} stopped")
        logger.info("stopped")
        printer.cancel()
        self.print_plain_logs()
        return 1 if self._failed.is_set() else 0

    async def _serve(self) -> None:
        """Serve until stopped: the console (or plain logs), resource sampling, the demo."""
        sampling = asyncio.create_task(self._sample_resources())
        watching = asyncio.create_task(self._watch_workers())
        demo = asyncio.create_task(self._demo()) if self.options.demo else None
        if self.options.supervisor_at_idle_priority:
            run_at_idle_priority()
        try:
            if self.options.console:
                await self._run_console()
            else:
                await self._stop.wait()
        finally:
            self._stop.set()
            sampling.cancel()
            watching.cancel()
            if demo is not None:
                await demo

    async def _run_console(self) -> None:
        from llm_gateway.dashboard.console import run_console

        try:
            await run_console(self, start_visible=self.options.dashboard, stop=self._stop)
        except Exception:
            # Still stop the workers gracefully and print the remaining log lines,
            # rather than die and leave the workers to notice that we are gone.
            logger.exception("the console failed; stopping")
            self._failed.set()

    async def _demo(self) -> None:
        from llm_gateway.demo import DEMO_API_KEY, clients_for, run_demo_traffic

        if any(k.key == DEMO_API_KEY for k in self.options.config.client_keys):
            logger.info("demo mode: clients use the API key %s", DEMO_API_KEY)
        logger.info("demo mode: sending demo traffic to %s", self.listen_url)
        try:
            await run_demo_traffic(
                self.listen_url, self._stop, clients=clients_for(self.options.config)
            )
        except Exception:
            logger.exception("demo traffic failed")

    async def _keep(self, index: int) -> None:
        """Run worker ``index`` until the gateway stops, restarting it whenever it dies."""
        loop = asyncio.get_running_loop()
        delay = 0.0
        while not self._stop.is_set():
            started_at = loop.time()
            worker = await self._spawn(index)
            status = await self._supervise(worker)
            self._watchdog.forget(index)
            self._aggregator.worker_left(index)
            del self._workers[index]
            ended = _describe_exit(status)
            if self._stop.is_set():
                logger.log(
                    logging.INFO if status == 0 else logging.WARNING,
                    "worker %d stopped (%s)",
                    index,
                    ended,
                )
                return
            if not self.serving.is_set() and index not in self._served:
                logger.error("worker %d failed to start (%s)", index, ended)
                self._failed.set()
                return
            steady = loop.time() - started_at >= STEADY_AFTER_S
            delay = 0.0 if steady else min(max(2 * delay, 0.25), MAX_RESTART_DELAY_S)
            logger.error("worker %d died (%s); restarting it in %gs", index, ended, delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), delay)

    async def _spawn(self, index: int) -> _Worker:
        # A copy of the listener, taken before the first await: the caller saw the stop
        # event clear, so the listener is still open, but it may be closed before the
        # spawner's thread gets to start the process.
        ours, theirs = socket.socketpair()
        with theirs, self._listener.dup() as listener:
            fds = (listener.fileno(), theirs.fileno())
            argv = [sys.executable, "-m", "llm_gateway.supervisor.worker", *map(str, fds)]
            process = await self._spawner.start(argv, pass_fds=fds)
        reader, writer = await asyncio.open_unix_connection(sock=ours)
        setup = WorkerSetup(
            index=index,
            config=self.options.config,
            log_level=self.options.log_level,
            grace_period_s=self.options.grace_period_s,
        )
        write_frame(writer, pickle.dumps(setup))
        self._aggregator.worker_joined(index)
        worker = self._workers[index] = _Worker(index, process, reader, writer)
        logger.debug("worker %d started (pid %d)", index, process.pid)
        return worker

    async def _supervise(self, worker: _Worker) -> int:
        """Relay the worker's reports and output until it exits; its exit status."""
        pumps = asyncio.gather(self._pump_reports(worker), self._pump_output(worker))
        try:
            await _first_of(pumps, self._stop)
            if not pumps.done():
                worker.writer.write_eof()
                try:
                    await asyncio.wait_for(
                        asyncio.shield(pumps), self.options.grace_period_s + KILL_MARGIN_S
                    )
                except TimeoutError:
                    logger.error("worker %d outstayed the grace period; killing it", worker.index)
                    worker.process.kill()
                    await pumps
        finally:
            worker.writer.close()
        return await worker.process.wait()

    async def _pump_reports(self, worker: _Worker) -> None:
        while (frame := await read_frame(worker.reader)) is not None:
            self._watchdog.heard_from(worker.index)
            report = decode_report(frame, worker.index)
            if report is None:
                self._served.add(worker.index)
                if len(self._served) == self.options.workers:
                    self.serving.set()
                continue
            self._aggregator.merge(worker.index, report.interval)
            self.log_history.extend(report.logs)

    async def _pump_output(self, worker: _Worker) -> None:
        """Turn anything a worker prints (a crash's traceback, say) into log lines."""
        output = worker.process.output
        while True:
            try:
                line = await output.readline()
            except ValueError:
                continue
            if not line:
                return
            text = line.decode(errors="replace").rstrip("\n")
            self.log_history.append(
                LogLine(time.time(), logging.WARNING, OUTPUT_LOGGER, text, worker.index)
            )

    async def _sample_resources(self) -> None:
        while True:
            pids = [os.getpid(), *self.worker_pids()]
            self._aggregator.record_resources(self._sampler.sample(pids))
            await asyncio.sleep(SAMPLE_INTERVAL_S)

    async def _watch_workers(self) -> None:
        while True:
            await asyncio.sleep(CHECK_INTERVAL_S)
            for index in self._watchdog.check():
                worker = self._workers.get(index)
                if worker is not None:
                    worker.process.kill()

    async def _print_plain_forever(self) -> None:
        while True:
            self.print_plain_logs()
            await asyncio.sleep(PRINT_INTERVAL_S)


async def _first_of(*waitables: asyncio.Event | asyncio.Future[Any]) -> None:
    """Wait until one event is set or one future is done."""
    waiters = [
        asyncio.create_task(w.wait()) if isinstance(w, asyncio.Event) else w for w in waitables
    ]
    await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    for waiter, waitable in zip(waiters, waitables, strict=True):
        if waiter is not waitable:
            waiter.cancel()


def _describe_exit(status: int) -> str:
    if status < 0:
        return f"killed by {signal.Signals(-status).name}"
    return f"exit status {status}"
