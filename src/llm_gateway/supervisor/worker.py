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
from llm_gateway.supervisor.logs import LogCollector


class WorkerServer(GatewayServer):
    """The gateway's uvicorn server, minus its signal handlers: the supervisor owns signals."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # uvicorn re-raises a captured signal after shutdown, which would kill the
        # process before its last report; SIGTERM is handled on the loop instead.
        yield


class Reporter:
    """Ships the recorder's interval and the collected log lines, one frame at a time."""

    def __init__(
        self, writer: asyncio.StreamWriter, recorder: IntervalRecorder, logs: LogCollector
    ) -> None:
        self._writer = writer
        self._recorder = recorder
        self._logs = logs

    def send(self) -> None:
        write_frame(self._writer, encode_report(self._recorder.take(), self._logs.take()))

    async def every(self, seconds: float) -> None:
        """Report until the supervisor is gone (the hang-up then stops the server)."""
        with contextlib.suppress(ConnectionError):
            while True:
                await asyncio.sleep(seconds)
                self.send()
                await self._writer.drain()

    async def close(self) -> None:
        self.send()
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
    recorder = IntervalRecorder()

    def ready() -> None:
        # What exists now lives as long as the process. Frozen, it is out of the garbage
        # collector's sight, so collections under load scan only per-request objects
        # instead of pausing every request for a walk over the whole heap.
        gc.freeze()
        write_frame(writer, READY)

    server = WorkerServer(
        create_app(setup.config, recorder),
        log_level="debug" if setup.log_level <= logging.DEBUG else "warning",
        on_started=ready,
    )
    server.config.timeout_graceful_shutdown = math.ceil(setup.grace_period_s)

    def stop() -> None:
        server.should_exit = True

    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop)
    hang_up = asyncio.create_task(_stop_on_hang_up(reader, stop))
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


async def _stop_on_hang_up(reader: asyncio.StreamReader, stop: Callable[[], None]) -> None:
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
