"""Log records as :class:`LogLine` data: collected in every process, printed by the supervisor.

Workers never write log text to the terminal: a :class:`LogCollector` on their root logger
keeps each record as a :class:`LogLine` until the next metrics message ships it. The
supervisor collects its own records the same way, so one list holds every line in the
order it arrived, and :func:`format_plain` turns each into exactly one line of text.
"""

from __future__ import annotations

import logging
import threading
import time

from llm_gateway.metrics.snapshot import LogLine

# Log messages may carry client input; escaping control characters keeps each record on
# one line and keeps escape sequences from reaching the terminal.
_CONTROL_ESCAPES = {
    code: f"\\x{code:02x}" for code in (*range(0x20), *range(0x7F, 0xA0)) if code != 0x09
} | {0x0A: "\\n", 0x0D: "\\r"}


class LogCollector(logging.Handler):
    """A handler that keeps records as :class:`LogLine` until :meth:`take` hands them out."""

    def __init__(self, worker: int = 0, level: int = logging.NOTSET) -> None:
        super().__init__(level)
        self.worker = worker
        self._lines: list[LogLine] = []
        # Records can come from any thread; the lock is only ever held for a list operation.
        self._lines_lock = threading.Lock()
        # The message plus any traceback, without a prefix: time, level and logger travel
        # as fields.
        self.setFormatter(logging.Formatter("%(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = self.format(record)
        except Exception:
            self.handleError(record)
            return
        line = LogLine(
            time=record.created,
            level=record.levelno,
            logger=record.name,
            message=message,
            worker=self.worker,
        )
        with self._lines_lock:
            self._lines.append(line)

    def add(self, lines: list[LogLine]) -> None:
        """Append lines that were collected elsewhere (a worker's), keeping their order."""
        with self._lines_lock:
            self._lines.extend(lines)

    def take(self) -> list[LogLine]:
        """Every line since the last call, oldest first; each line is handed out once."""
        with self._lines_lock:
            lines, self._lines = self._lines, []
        return lines


def format_plain(line: LogLine) -> str:
    """``2026-11-27 06:03:05.123 INFO    w1 llm_gateway.access: message``, on one line.

    Worker 0 is the supervisor, shown as ``sv``.
    """
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(line.time))
    millis = int(line.time * 1000) % 1000
    level = logging.getLevelName(line.level)
    source = f"w{line.worker}" if line.worker else "sv"
    message = line.message.translate(_CONTROL_ESCAPES)
    return f"{stamp}.{millis:03d} {level:<7} {source} {line.logger}: {message}"
