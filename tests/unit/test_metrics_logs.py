"""Log lines: collected as data in each process, shipped with the metrics, printed plainly."""

from __future__ import annotations

import logging
import time

from llm_gateway.metrics.interval import IntervalRecorder
from llm_gateway.metrics.record import RequestRecord
from llm_gateway.metrics.snapshot import LogLine
from llm_gateway.supervisor.channel import READY, decode_report, encode_report
from llm_gateway.supervisor.logs import LogCollector, format_plain


def collecting(worker: int) -> tuple[logging.Logger, LogCollector]:
    collector = LogCollector(worker)
    log = logging.getLogger(f"test.metrics.logs.{worker}")
    log.handlers = [collector]
    log.propagate = False
    log.setLevel(logging.INFO)
    return log, collector


def test_collector_keeps_records_in_order_and_hands_each_out_once() -> None:
    log, collector = collecting(3)
    log.info("one %d", 1)
    log.debug("below the level")
    log.warning("two")

    lines = collector.take()

    assert [(line.level, line.message, line.worker) for line in lines] == [
        (logging.INFO, "one 1", 3),
        (logging.WARNING, "two", 3),
    ]
    assert lines[0].logger == log.name
    assert collector.take() == []


def test_a_traceback_travels_with_its_record() -> None:
    log, collector = collecting(1)
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("failed")

    (line,) = collector.take()

    assert line.message.startswith("failed\nTraceback")
    assert "ValueError: boom" in line.message


def test_plain_format_is_one_line_with_control_characters_escaped() -> None:
    when = time.mktime((2026, 11, 27, 6, 3, 5, 0, 0, -1)) + 0.123
    line = LogLine(when, logging.INFO, "llm_gateway.access", "a\nb\x1b[31mred\tc", worker=2)

    text = format_plain(line)

    assert text == "2026-11-27 06:03:05.123 INFO    w2 llm_gateway.access: a\\nb\\x1b[31mred\tc"
    assert format_plain(LogLine(when, logging.ERROR, "x", "[bold]y[/]")).endswith(
        "ERROR   sv x: [bold]y[/]"
    )


def test_a_report_carries_metrics_and_logs_across_the_wire() -> None:
    recorder = IntervalRecorder()
    recorder.request_started()
    recorder.request_finished(RequestRecord("m", 200, 0.5, 1, 2))
    interval = recorder.take()
    logs = [LogLine(1.5, logging.INFO, "a", "first"), LogLine(2.5, logging.ERROR, "b", "second")]

    report = decode_report(encode_report(interval, logs), worker=4)

    assert report is not None
    assert report.interval == interval
    assert [(line.message, line.worker, line.time) for line in report.logs] == [
        ("first", 4, 1.5),
        ("second", 4, 2.5),
    ]
    assert decode_report(READY, worker=4) is None
