"""A log line's one line of text, and the record read back from it."""

from __future__ import annotations

import logging
import time

import pytest

from llm_gateway.metrics.log_text import as_log_line, format_plain, parse_plain, plain_text
from llm_gateway.metrics.snapshot import LogLine

WHEN = time.mktime((2026, 12, 7, 6, 3, 5, 0, 0, -1)) + 0.125
"""A time with whole milliseconds that a float holds exactly, so it reads back equal."""


@pytest.mark.parametrize(
    "line",
    [
        LogLine(WHEN, logging.INFO, "llm_gateway.access", "POST /v1/messages status=200", 1),
        LogLine(WHEN + 0.75, logging.WARNING, "llm_gateway.pool", "cooling: 30 s: why", 12),
        LogLine(WHEN, logging.CRITICAL, "aiohttp.server", "", 0),
        LogLine(WHEN, logging.DEBUG, "x", "a message: with: colons", 3),
        LogLine(WHEN, logging.ERROR, "x", "  leading spaces kept", 0),
    ],
)
def test_a_printed_line_reads_back_as_the_record_it_came_from(line: LogLine) -> None:
    assert parse_plain(format_plain(line)) == line


def test_the_time_reads_back_to_the_millisecond_below() -> None:
    text = format_plain(LogLine(WHEN + 0.0009, logging.INFO, "x", "m", 1))

    assert parse_plain(text).time == WHEN


def test_a_message_reads_back_as_it_was_printed_escaped() -> None:
    text = plain_text(WHEN, logging.INFO, 2, "llm_gateway.access", "model=m\n\x1b[2J ok")

    assert text.endswith(" w2 llm_gateway.access: model=m\\n\\x1b[2J ok")
    assert parse_plain(text).message == "model=m\\n\\x1b[2J ok"


def test_as_log_line_reads_text_and_passes_a_record_through() -> None:
    line = LogLine(WHEN, logging.INFO, "llm_gateway.access", "POST /v1/messages", 4)

    assert as_log_line(line) is line
    assert as_log_line(format_plain(line)) == line
