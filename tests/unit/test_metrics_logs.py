"""Log lines: collected as data in each process, shipped with the metrics, printed plainly."""

from __future__ import annotations

import logging
import time

from llm_gateway.metrics.interval import IntervalRecorder
from llm_gateway.metrics.log_text import as_log_line, format_plain
from llm_gateway.metrics.record import RequestRecord
from llm_gateway.metrics.snapshot import LogLine
from llm_gateway.supervisor.channel import READY, decode_report, encode_report
from llm_gateway.supervisor.logs import (
    ACCESS_LOGGER,
    MAX_PENDING_LINES,
    LogCollector,
    access_message,
)
from tests.exchanges import served


def collecting(worker: int, limit: int = MAX_PENDING_LINES) -> tuple[logging.Logger, LogCollector]:
    collector = LogCollector(worker, limit=limit)
    log = logging.getLogger(f"test.metrics.logs.{worker}")
    log.handlers = [collector]
    log.propagate = False
    log.setLevel(logging.INFO)
    return log, collector


def taken(collector: LogCollector) -> list[LogLine]:
    return [as_log_line(line) for line in collector.take()]


def test_collector_keeps_records_in_order_and_hands_each_out_once() -> None:
    log, collector = collecting(3)
    log.info("one %d", 1)
    log.debug("below the level")
    log.warning("two")

    lines = taken(collector)

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

    (line,) = taken(collector)

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
    served(recorder, RequestRecord("m", 200, 0.5, 1, 2))
    interval = recorder.take()
    logs = [LogLine(1.5, logging.INFO, "a", "first"), LogLine(2.5, logging.ERROR, "b", "second")]

    report = decode_report(encode_report(interval, logs), worker=4)

    assert report is not None
    assert report.interval == interval
    assert report.logs == [
        LogLine(1.5, logging.INFO, "a", "first", 4),
        LogLine(2.5, logging.ERROR, "b", "second", 4),
    ]
    assert decode_report(READY, worker=4) is None


def dropped_message(count: str) -> str:
    return f"dropped {count} log lines: they came faster than the supervisor could take them"


def test_lines_beyond_the_limit_are_counted_and_reported_once_at_the_end() -> None:
    log, collector = collecting(2, limit=3)
    for number in range(5):
        log.info("line %d", number)
    before = time.time()

    lines = taken(collector)

    assert [line.message for line in lines] == [
        "line 0",
        "line 1",
        "line 2",
        dropped_message("2"),
    ]
    summary = lines[-1]
    assert (summary.level, summary.logger, summary.worker) == (
        logging.WARNING,
        "llm_gateway.logs",
        2,
    )
    assert summary.time >= before


def test_the_dropped_count_starts_over_after_each_take() -> None:
    log, collector = collecting(0, limit=3)
    for number in range(1_237):
        log.info("old %d", number)
    assert taken(collector)[-1].message == dropped_message("1,234")

    log.info("new")

    assert [line.message for line in taken(collector)] == ["new"]


def test_no_summary_when_nothing_was_dropped() -> None:
    log, collector = collecting(1, limit=3)
    for number in range(3):
        log.info("line %d", number)

    assert [line.message for line in taken(collector)] == ["line 0", "line 1", "line 2"]
    assert collector.take() == []


def finished(model: str, **fields: object) -> RequestRecord:
    record = RequestRecord(model, 200, 0.0123, 10, 20, method="POST", path="/v1/messages")
    for name, value in fields.items():
        setattr(record, name, value)
    return record


def test_the_access_line_names_every_field_of_the_record() -> None:
    assert access_message(finished("m")) == (
        "POST /v1/messages model=m status=200 latency=12.3ms tokens=10/20"
    )
    estimated = finished("k", tokens_estimated=True, credits=0.25, status=504, client="alice")
    estimated.error_type = "timeout"
    assert access_message(estimated) == (
        "POST /v1/messages model=k status=504 latency=12.3ms tokens=~10/~20"
        " client=alice credits=0.25 error=timeout"
    )


def test_access_lines_keep_their_place_among_log_lines_and_cross_as_the_text_printed() -> None:
    log, collector = collecting(3)
    recorder = IntervalRecorder(access_log=collector.add_access)
    log.info("before")
    served(recorder, finished("m", finished_at=1_800_000_000.5))
    log.warning("after")

    entries = collector.take()
    report = decode_report(encode_report(recorder.take(), entries), worker=3)

    message = "POST /v1/messages model=m status=200 latency=12.3ms tokens=10/20"
    access = LogLine(1_800_000_000.5, logging.INFO, ACCESS_LOGGER, message, 3)
    assert entries[1] == format_plain(access)
    assert report is not None
    assert report.logs[1] == format_plain(access)
    lines = [as_log_line(line) for line in report.logs]
    assert [(line.level, line.logger, line.message, line.worker) for line in lines] == [
        (logging.INFO, log.name, "before", 3),
        (logging.INFO, ACCESS_LOGGER, message, 3),
        (logging.WARNING, log.name, "after", 3),
    ]
    assert lines[1] == access


def test_an_access_line_is_printed_escaped_as_any_other() -> None:
    collector = LogCollector(worker=1)
    collector.add_access(finished("m\n\x1b[2J"))

    (text,) = collector.take()

    assert isinstance(text, str)
    assert "\n" not in text and "\x1b" not in text
    assert " w1 llm_gateway.access: POST /v1/messages model=m\\n\\x1b[2J status=200 " in text


def test_access_lines_count_against_the_limit() -> None:
    collector = LogCollector(worker=2, limit=2)
    for model in ("a", "b", "c"):
        collector.add_access(finished(model))

    lines = [as_log_line(entry) for entry in collector.take()]

    assert [line.message.split()[2] for line in lines[:2]] == ["model=a", "model=b"]
    assert lines[2].message == dropped_message("1")
