"""A log line as one line of text, and back: what the plain log prints.

:func:`format_plain` writes a :class:`LogLine` as
``2026-11-27 06:03:05.123 INFO    w1 llm_gateway.access: message``, and
:func:`parse_plain` reads such a text back. Access lines travel, and wait in the
history, as this text (see :mod:`llm_gateway.supervisor.logs`), so the log history holds
a :data:`LogEntry`, either form; :func:`as_log_line` gives the record to the views that
draw its parts.
"""

from __future__ import annotations

import functools
import logging
import time

from llm_gateway.metrics.snapshot import LogLine

LogEntry = LogLine | str
"""A log line as a record, or as the text :func:`format_plain` writes for it."""

# Log messages may carry client input; escaping control characters keeps each record on
# one line and keeps escape sequences from reaching the terminal.
_CONTROL_ESCAPES = {
    code: f"\\x{code:02x}" for code in (*range(0x20), *range(0x7F, 0xA0)) if code != 0x09
} | {0x0A: "\\n", 0x0D: "\\r"}

_STAMP = "%Y-%m-%d %H:%M:%S"

_LEVELS = logging.getLevelNamesMapping()


def format_plain(line: LogLine) -> str:
    """``2026-11-27 06:03:05.123 INFO    w1 llm_gateway.access: message``, on one line.

    Worker 0 is the supervisor, shown as ``sv``.
    """
    return plain_text(line.time, line.level, line.worker, line.logger, line.message)


def plain_text(at: float, level: int, worker: int, logger: str, message: str) -> str:
    """What :func:`format_plain` writes, from the parts of a line rather than a record."""
    # Most messages (every access line) have nothing to escape, and saying so is cheap.
    if not message.isprintable():
        message = message.translate(_CONTROL_ESCAPES)
    source = _source(level, worker, logger)
    return f"{_stamp(int(at))}.{_MILLIS[int(at * 1000) % 1000]} {source}: {message}"


def parse_plain(text: str) -> LogLine:
    """The :class:`LogLine` that :func:`format_plain` wrote as ``text``.

    The time comes back to the millisecond (it is printed in local time, so in the hour a
    clock change repeats it may come back an hour off) and the message as it was printed,
    escapes and all. The level must be one of :mod:`logging`'s own (a number without a name
    prints as two words); every line kept as text is an access line, at ``INFO``.
    """
    head, _, message = text.partition(": ")
    day, clock, level, source, logger = head.split(maxsplit=4)
    at = _seconds(f"{day} {clock[:8]}") + int(clock[9:12]) / 1000
    worker = 0 if source == "sv" else int(source[1:])
    return LogLine(at, _LEVELS[level], logger, message, worker)


def as_log_line(entry: LogEntry) -> LogLine:
    """The record of an entry, read back from its text if it is text."""
    return entry if isinstance(entry, LogLine) else parse_plain(entry)


# Looked up rather than formatted: formatting took a third of the time of writing a line.
_MILLIS = tuple(f"{millis:03d}" for millis in range(1000))


@functools.lru_cache(maxsize=256)
def _source(level: int, worker: int, logger: str) -> str:
    # The same few combinations make up nearly every line: written once each, not per line.
    return f"{logging.getLevelName(level):<7} {f'w{worker}' if worker else 'sv'} {logger}"


@functools.lru_cache(maxsize=4)
def _stamp(second: int) -> str:
    # One local-time conversion per second of log, not per line.
    return time.strftime(_STAMP, time.localtime(second))


@functools.lru_cache(maxsize=4)
def _seconds(stamp: str) -> float:
    return time.mktime(time.strptime(stamp, _STAMP))
