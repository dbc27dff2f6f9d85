"""The one log history: bounded, read by many readers, each from its own place."""

from __future__ import annotations

import logging

from llm_gateway.metrics.log_history import LogBatch, LogHistory, not_shown
from llm_gateway.metrics.log_text import format_plain
from llm_gateway.metrics.snapshot import LogLine
from llm_gateway.supervisor.logs import HistoryHandler, format_plain_batch


def lines(start: int, count: int) -> list[LogLine]:
    return [LogLine(float(n), logging.INFO, "t", f"line {n}") for n in range(start, start + count)]


def messages(batch: LogBatch) -> list[str]:
    return [line.message for line in batch.records()]


def test_each_reader_reads_every_line_once_whatever_the_others_read() -> None:
    history = LogHistory(capacity=100)
    first, second = history.reader(), history.reader()
    history.extend(lines(0, 3))

    assert messages(first.read()) == ["line 0", "line 1", "line 2"]
    history.append(lines(3, 1)[0])
    assert messages(first.read()) == ["line 3"]
    assert messages(first.read()) == []
    assert messages(second.read()) == ["line 0", "line 1", "line 2", "line 3"]


def test_a_new_reader_starts_with_as_much_recent_history_as_it_asks_for() -> None:
    history = LogHistory(capacity=10)
    history.extend(lines(0, 25))

    assert messages(history.reader(back=3).read()) == ["line 22", "line 23", "line 24"]
    recent = history.reader(back=1_000).read()
    assert messages(recent) == [f"line {n}" for n in range(15, 25)]
    assert recent.missed == 0
    assert history.reader().read() == LogBatch([], 0)


def test_a_reader_that_falls_behind_the_history_is_told_how_many_it_missed() -> None:
    history = LogHistory(capacity=10)
    reader = history.reader()
    history.extend(lines(0, 25))

    assert reader.pending == 25
    batch = reader.read()

    assert batch.missed == 15
    assert messages(batch) == [f"line {n}" for n in range(15, 25)]
    assert reader.pending == 0


def test_a_limited_read_keeps_the_newest_lines_and_counts_the_rest() -> None:
    history = LogHistory(capacity=100)
    reader = history.reader()
    history.extend(lines(0, 30))

    batch = reader.read(limit=4)

    assert (batch.missed, messages(batch)) == (26, ["line 26", "line 27", "line 28", "line 29"])
    assert reader.read(limit=4) == LogBatch([], 0)


def test_the_plain_text_of_a_batch_starts_with_one_marker_for_what_it_missed() -> None:
    first, second = lines(7, 2)

    text = format_plain_batch(LogBatch([first, second], missed=1_234))

    assert text.splitlines() == [
        "\u2026 1,234 earlier lines not shown",
        format_plain(first),
        format_plain(second),
    ]
    assert not_shown(1_234) == "\u2026 1,234 earlier lines not shown"
    assert format_plain_batch(LogBatch(lines(0, 1))) == format_plain(lines(0, 1)[0]) + "\n"
    assert format_plain_batch(LogBatch([])) == ""


def test_an_access_line_kept_as_text_is_printed_as_it_came() -> None:
    access = "2026-12-07 06:03:05.123 INFO    w1 llm_gateway.access: POST /v1/messages status=200"
    first, last = lines(0, 2)

    text = format_plain_batch(LogBatch([first, access, last]))

    assert text.splitlines() == [format_plain(first), access, format_plain(last)]


def test_the_supervisors_own_records_go_straight_into_the_history() -> None:
    history = LogHistory()
    log = logging.getLogger("test.log_history")
    log.handlers = [HistoryHandler(history)]
    log.propagate = False
    log.setLevel(logging.INFO)
    log.debug("filtered by the level")
    log.warning("kept %s", "here")

    (line,) = history.reader(back=10).read().records()

    assert (line.level, line.message, line.worker, line.logger) == (
        logging.WARNING,
        "kept here",
        0,
        "test.log_history",
    )
