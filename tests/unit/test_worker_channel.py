"""The worker-supervisor channel over a real socketpair: a supervisor behind, a hang-up."""

from __future__ import annotations

import asyncio
import logging
import socket
from dataclasses import dataclass

import uvloop

from llm_gateway.metrics.interval import IntervalRecorder
from llm_gateway.metrics.log_text import as_log_line
from llm_gateway.metrics.record import RequestRecord
from llm_gateway.supervisor.channel import Report, decode_report, read_frame
from llm_gateway.supervisor.logs import LogCollector
from llm_gateway.supervisor.worker import Reporter, stop_on_hang_up
from tests.exchanges import served

BIG_LINE = "x" * 1000


def record(recorder: IntervalRecorder, model: str) -> None:
    served(recorder, RequestRecord(model, 200, 0.01))


def log(collector: LogCollector, message: str) -> None:
    collector.emit(logging.LogRecord("t", logging.INFO, __file__, 1, message, None, None))


def messages(report: Report) -> list[str]:
    return [as_log_line(line).message for line in report.logs]


async def read_reports(reader: asyncio.StreamReader, count: int) -> list[Report]:
    reports = []
    for _ in range(count):
        frame = await read_frame(reader)
        assert frame is not None
        report = decode_report(frame, worker=1)
        assert report is not None
        reports.append(report)
    return reports


@dataclass
class Channel:
    """A worker's reporter, and the supervisor's end that reads it (or not yet)."""

    reporter: Reporter
    recorder: IntervalRecorder
    logs: LogCollector
    writer: asyncio.StreamWriter
    supervisor: asyncio.StreamReader
    supervisor_end: asyncio.StreamWriter
    """Kept: dropped, it would close the connection."""

    def close(self) -> None:
        self.writer.close()
        self.supervisor_end.close()


async def open_channel(*, logs_backlog: int, metrics_backlog: int) -> Channel:
    ours, theirs = socket.socketpair()
    supervisor, supervisor_end = await asyncio.open_unix_connection(sock=theirs)
    _, writer = await asyncio.open_unix_connection(sock=ours)
    recorder = IntervalRecorder()
    logs = LogCollector(worker=1)
    reporter = Reporter(
        writer, recorder, logs, logs_backlog=logs_backlog, metrics_backlog=metrics_backlog
    )
    return Channel(reporter, recorder, logs, writer, supervisor, supervisor_end)


async def reset_channel() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A worker's end of a channel whose supervisor closed with data unread in it."""
    ours, theirs = socket.socketpair()
    reader, writer = await asyncio.open_unix_connection(sock=ours)
    writer.write(b"never read")
    await writer.drain()
    theirs.close()
    return reader, writer


async def test_a_supervisor_behind_gets_metrics_without_logs_then_nothing() -> None:
    channel = await open_channel(logs_backlog=100_000, metrics_backlog=1_000_000)

    # One report big enough that most of it waits in the worker: the supervisor is behind.
    for _ in range(3000):
        log(channel.logs, BIG_LINE)
    record(channel.recorder, "first")
    channel.reporter.report()
    waiting = channel.writer.transport.get_write_buffer_size()
    assert waiting > 1_000_000

    record(channel.recorder, "second")
    log(channel.logs, "held back")
    channel.reporter.report()
    assert channel.writer.transport.get_write_buffer_size() == waiting, (
        "sent past the metrics limit"
    )

    [first] = await read_reports(channel.supervisor, 1)
    assert set(first.interval.models) == {"first"}
    assert len(first.logs) == 3000
    assert channel.writer.transport.get_write_buffer_size() == 0

    # Caught up: the counts that waited come now, exact, with the lines that waited.
    channel.reporter.report()
    [second] = await read_reports(channel.supervisor, 1)
    assert second.interval.models["second"].requests == 1
    assert messages(second) == ["held back"]
    channel.close()


async def test_past_the_logs_limit_metrics_still_go_and_lines_wait() -> None:
    channel = await open_channel(logs_backlog=100_000, metrics_backlog=10**9)

    for _ in range(3000):
        log(channel.logs, BIG_LINE)
    channel.reporter.report()
    assert channel.writer.transport.get_write_buffer_size() > 100_000

    for model in ("a", "b", "c"):
        record(channel.recorder, model)
        log(channel.logs, f"during {model}")
        channel.reporter.report()

    reports = await read_reports(channel.supervisor, 4)
    assert [list(r.interval.models) for r in reports[1:]] == [["a"], ["b"], ["c"]]
    assert all(not r.logs for r in reports[1:])
    channel.reporter.report()
    [caught_up] = await read_reports(channel.supervisor, 1)
    assert messages(caught_up) == ["during a", "during b", "during c"]
    channel.close()


async def test_a_peer_gone_with_data_unread_reads_as_closed() -> None:
    """Linux resets a unix socket closed with unread data; that is a hang-up too."""
    reader, writer = await reset_channel()
    assert await read_frame(reader) is None
    writer.close()


def test_reporting_to_a_supervisor_that_is_gone_is_quiet_on_the_workers_loop() -> None:
    """On uvloop, as in a worker, where a write to a closed transport raises."""

    async def scenario() -> list[str]:
        reader, writer = await reset_channel()
        stopped: list[str] = []
        await stop_on_hang_up(reader, lambda: stopped.append("stop"))
        reporter = Reporter(writer, IntervalRecorder(), LogCollector(worker=1))
        reporter.report()
        await reporter.close()
        return stopped

    assert uvloop.run(scenario()) == ["stop"]
