"""One worker process: serve the app on the inherited socket, report every 250 ms.

Started by the supervisor as ``python -m llm_gateway.supervisor.worker LISTEN_FD
CHANNEL_FD``. It reads its :class:`~llm_gateway.supervisor.channel.WorkerSetup` from the
channel, runs the app under uvicorn, and sends one report per interval with the metrics
and the log records of that interval. It stops gracefully when the channel closes (the
supervisor asking, or the supervisor gone) or on SIGTERM, and sends a last report on its
way out so no log line is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import math
import pickle
import signal
import socket
import sys
from collections.abc import Callable, Iterator

import uvloop

from llm_gateway.app import create_app
from llm_gateway.metrics.interval import IntervalRecorder
from llm_gateway.server import GatewayServer
from llm_gateway.supervisor.channel import (
    READY,
    WorkerSetup,
    encode_report,
    read_frame,
    write_frame,
)
from llm_gateway.supervisor.logs import ACCESS_LOGGER, LogCollector


class WorkerServer(GatewayServer):
    """The gateway's uvicorn server, minus its signal handlers: the supervisor owns signals."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # uvicorn re-raises a captured signal after shutdown, which would kill the
        # process before its last report; SIGTERM is handled on the loop instead.
        yield


LOGS_BACKLOG_BYTES = 256 * 1024
"""Once this much is waiting for the supervisor, reports leave the log lines behind."""
METRICS_BACKLOG_BYTES = 1024 * 1024
"""Once this much is waiting, reports stop until the supervisor catches up."""


class Reporter:
    """Ships the recorder's interval and the collected log lines, one frame at a time.

    It reports on time however far behind the supervisor is, because the supervisor files
    each interval under the second it was taken: one that reads late (at idle priority on
    a saturated machine) still shows the traffic when it happened. What waits for it stays
    bounded. Past :data:`LOGS_BACKLOG_BYTES` the log lines stay in their collector, which
    caps them; past :data:`METRICS_BACKLOG_BYTES` nothing is sent and the recorder keeps
    adding up, so the counts stay exact and only their timing gets coarser.
    """

    def __init__(
        self,
        writer: asyncio.StreamWriter,
        recorder: IntervalRecorder,
        logs: LogCollector,
        *,
        logs_backlog: int = LOGS_BACKLOG_BYTES,
        metrics_backlog: int = METRICS_BACKLOG_BYTES,
    ) -> None:
        self._writer = writer
        self._recorder = recorder
        self._logs = logs
        self._logs_backlog = logs_backlog
        self._metrics_backlog = metrics_backlog

    def report(self) -> None:
        """Send one report, or less of one (see the class), while the supervisor is behind."""
        # With the supervisor gone there is no one to tell (and uvloop raises on a write
        # to a closed transport); the hang-up stops the server.
        if self._writer.is_closing():
            return
        waiting = self._writer.transport.get_write_buffer_size()
        if waiting > self._metrics_backlog:
            return
        logs = [] if waiting > self._logs_backlog else self._logs.take()
        write_frame(self._writer, encode_report(self._recorder.take(), logs))

    async def every(self, seconds: float) -> None:
        """Report until the supervisor is gone (the hang-up then stops the server)."""
        while not self._writer.is_closing():
            await asyncio.sleep(seconds)
            self.report()

    async def close(self) -> None:
        """Send everything that is left, however far behind the supervisor is, if it is there."""
        if not self._writer.is_closing():
            report = encode_report(self._recorder.take(), self._logs.take())
            write_frame(self._writer, report)
            with contextlib.suppress(ConnectionError):
                await self._writer.drain()
        self._writer.close()


def install_logging(worker: int, level: int) -> LogCollector:
    collector = LogCollector(worker)
    root = logging.getLogger()
    root.handlers = [collector]
    root.setLevel(level)
    logging.captureWarnings(True)
    return collector


async def run(listen: socket.socket, channel: socket.socket) -> int:
    reader, writer = await asyncio.open_unix_connection(sock=channel)
    frame = await read_frame(reader)
    if frame is None:
        return 1
    setup: WorkerSetup = pickle.loads(frame)
    logs = install_logging(setup.index, setup.log_level)
    access_log = logging.getLogger(ACCESS_LOGGER).isEnabledFor(logging.INFO)
    recorder = IntervalRecorder(access_log=logs.add_access if access_log else None)

    def ready() -> None:
        tune_collector()
        write_frame(writer, READY)

    server = WorkerServer(
        create_app(setup.config, recorder),
        limits=setup.config.connections,
        connections=recorder.connections,
        log_level="debug" if setup.log_level <= logging.DEBUG else "warning",
        on_started=ready,
    )
    server.config.timeout_graceful_shutdown = math.ceil(setup.grace_period_s)

    def stop() -> None:
        server.should_exit = True

    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop)
    # A hang-up is the supervisor's to act on (it stops us gracefully through the channel).
    loop.add_signal_handler(signal.SIGHUP, lambda: None)
    hang_up = asyncio.create_task(stop_on_hang_up(reader, stop))
    reporter = Reporter(writer, recorder, logs)
    reporting = asyncio.create_task(reporter.every(setup.report_interval_s))
    status = 0
    try:
        await server.serve(sockets=[listen])
    except SystemExit as exc:
        # uvicorn's way to say the app's lifespan failed to start; it has logged why.
        status = exc.code if isinstance(exc.code, int) else 1
    finally:
        hang_up.cancel()
        reporting.cancel()
        await reporter.close()
    return status


FULL_COLLECTION_AFTER = 1000
"""Middle-generation collections before a full one; Python's default is 10."""


def tune_collector() -> None:
    """Keep the cyclic garbage collector's pauses short while the worker serves.

    What exists once the app has started lives as long as the process: frozen, it is out
    of the collector's sight, so a collection under load scans only what requests made.

    A full collection still walks everything alive, and with many open streams that is a
    lot: at 2,000 streams one took 220 ms, in which no stream moved, and they came every
    few seconds, half a second of CPU per 2,000 streams. They found nothing to free:
    requests and streams leave no reference cycles, their objects go by reference count.
    So a full collection waits for a hundred times as many middle-generation ones; rare,
    but not never, so a cycle that does leak is still freed.
    """
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_COLLECTION_AFTER)


async def stop_on_hang_up(reader: asyncio.StreamReader, stop: Callable[[], None]) -> None:
    # A supervisor that dies with our reports unread in its socket resets the connection
    # instead of closing it; either way it is gone.
    with contextlib.suppress(ConnectionError):
        await reader.read()
    stop()


def main(argv: list[str]) -> int:
    listen_fd, channel_fd = (int(arg) for arg in argv)
    listen = socket.socket(fileno=listen_fd)
    channel = socket.socket(fileno=channel_fd)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(run(listen, channel))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
