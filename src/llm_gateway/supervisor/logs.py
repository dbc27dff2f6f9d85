"""Log records as :class:`LogLine` data: collected in every process, printed by the supervisor.

Workers never write log text to the terminal: a :class:`LogCollector` on their root logger
keeps each record as a :class:`LogLine` until the next metrics message ships it. The
supervisor keeps its own records with a :class:`HistoryHandler`, straight in the one
:class:`~llm_gateway.metrics.log_history.LogHistory` that its workers' lines join as they
arrive, and :func:`format_plain` turns each into exactly one line of text.

The access log takes a cheaper road. A worker's collector keeps each finished request's
access line as a pair, its time and :func:`access_message`, in the same list (so the access
line still comes before the error line of the same request), and the pair crosses the
channel as a two-item array. The message is written in the worker on purpose: the
supervisor shares the CPU with the workers, and whatever it does per line, even at idle
priority, shows in the slowest requests (docs/BENCHMARKS.md measures it), while the same
text written in the worker costs its request about a microsecond.

A collector holds at most :data:`MAX_PENDING_LINES` lines between takes: when the
supervisor falls behind, later lines are counted instead of kept, and the next take ends
with one warning line that says how many were dropped.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from typing import Any

from llm_gateway.metrics.log_history import LogBatch, LogHistory, not_shown
from llm_gateway.metrics.record import RequestRecord
from llm_gateway.metrics.snapshot import LogLine

ACCESS_LOGGER = "llm_gateway.access"
"""The access log's logger: its level (``--log-level``) decides whether workers keep records."""

AccessEntry = tuple[float, str]
"""An access line as a worker keeps and ships it: its time and :func:`access_message`."""

MAX_PENDING_LINES = 10_000
"""How many lines a collector keeps between two takes before it drops new ones.

Workers report every 250 ms, so this allows 40,000 lines a second, far above any normal
rate even with an access-log line per request. It is reached only when the supervisor
stops taking (at idle CPU priority on a saturated machine it may barely run), and then it
caps the memory a worker spends waiting instead of letting the backlog grow without bound.
"""

# Log messages may carry client input; escaping control characters keeps each record on
# one line and keeps escape sequences from reaching the terminal.
_CONTROL_ESCAPES = {
    code: f"\\x{code:02x}" for code in (*range(0x20), *range(0x7F, 0xA0)) if code != 0x09
} | {0x0A: "\\n", 0x0D: "\\r"}


def access_message(record: RequestRecord) -> str:
    """``POST /v1/messages model=m status=200 latency=1.2ms tokens=10/20 client=alice``, plus extras.

    The client is the label of its key (see :mod:`llm_gateway.auth`), never the key.
    """
    estimated = "~" if record.tokens_estimated else ""
    message = (
        f"{record.method} {record.path} model={record.model} status={record.status}"
        f" latency={record.latency_s * 1000:.1f}ms"
        f" tokens={estimated}{record.input_tokens}/{estimated}{record.output_tokens}"
    )
    if record.client:
        message += f" client={record.client}"
    if record.credits is not None:
        message += f" credits={record.credits:g}"
    if record.upstream:
        message += f" upstream={record.upstream} attempts={record.attempts}"
    if record.error_type is not None:
        message += f" error={record.error_type}"
    return message


def access_line(entry: AccessEntry | list[Any], worker: int) -> LogLine:
    """The access log's line for an :data:`AccessEntry` (a list once it has crossed as JSON)."""
    at, message = entry
    return LogLine(at, logging.INFO, ACCESS_LOGGER, message, worker)


class _LineHandler(logging.Handler):
    """A handler that turns each record into a :class:`LogLine` and hands it to :meth:`keep`."""

    def __init__(self, worker: int, level: int = logging.NOTSET) -> None:
        super().__init__(level)
        self.worker = worker
        # The message plus any traceback, without a prefix: time, level and logger travel
        # as fields.
        self.setFormatter(logging.Formatter("%(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = self.format(record)
        except Exception:
            self.handleError(record)
            return
        self.keep(
            LogLine(
                time=record.created,
                level=record.levelno,
                logger=record.name,
                message=message,
                worker=self.worker,
            )
        )

    def keep(self, line: LogLine) -> None:
        raise NotImplementedError


class HistoryHandler(_LineHandler):
    """The supervisor's own records, appended to the log history as they are made."""

    def __init__(self, history: LogHistory) -> None:
        super().__init__(worker=0)
        self._history = history

    def keep(self, line: LogLine) -> None:
        self._history.append(line)


class LogCollector(_LineHandler):
    """A handler that keeps records as :class:`LogLine` until :meth:`take` hands them out.

    At most ``limit`` lines wait at a time. Beyond that, new lines are counted rather than
    kept: the oldest lines are the ones that explain how things went wrong, and a count is
    enough to say that something was lost. :meth:`take` reports the count as one more line.
    Access records (:meth:`add_access`) wait in the same list and count the same way.
    """

    def __init__(
        self, worker: int = 0, level: int = logging.NOTSET, *, limit: int = MAX_PENDING_LINES
    ) -> None:
        super().__init__(worker, level)
        self.limit = limit
        self._lines: list[LogLine | AccessEntry] = []
        self._dropped = 0
        # Records can come from any thread; the lock is only ever held for a list operation.
        self._lines_lock = threading.Lock()

    def keep(self, line: LogLine) -> None:
        with self._lines_lock:
            if len(self._lines) < self.limit:
                self._lines.append(line)
            else:
                self._dropped += 1

    def add_access(self, record: RequestRecord) -> None:
        """Keep a finished request's access line, as an :data:`AccessEntry`."""
        entry = (record.finished_at, access_message(record))
        with self._lines_lock:
            if len(self._lines) < self.limit:
                self._lines.append(entry)
            else:
                self._dropped += 1

    def take(self) -> list[LogLine]:
        """Every line kept since the last call, oldest first; each line is handed out once.

        Access entries become lines here; a worker ships them as they are
        (:meth:`take_entries`).
        """
        return [
            entry if isinstance(entry, LogLine) else access_line(entry, self.worker)
            for entry in self.take_entries()
        ]

    def take_entries(self) -> list[LogLine | AccessEntry]:
        """Every line and access entry kept since the last call, oldest first, each once.

        If lines were dropped since the last call, one warning line at the end says how
        many. It is added here rather than kept in the list so that it never takes the
        place of a real line and always comes after the lines that did fit.
        """
        with self._lines_lock:
            lines, self._lines = self._lines, []
            dropped, self._dropped = self._dropped, 0
        if dropped:
            lines.append(
                LogLine(
                    time=time.time(),
                    level=logging.WARNING,
                    logger="llm_gateway.logs",
                    message=f"dropped {dropped:,} log lines: they came faster than the"
                    " supervisor could take them",
                    worker=self.worker,
                )
            )
        return lines


def format_plain(line: LogLine) -> str:
    """``2026-11-27 06:03:05.123 INFO    w1 llm_gateway.access: message``, on one line.

    Worker 0 is the supervisor, shown as ``sv``.
    """
    at = line.time
    message = line.message
    # Most messages (every access line) have nothing to escape, and saying so is cheap.
    if not message.isprintable():
        message = message.translate(_CONTROL_ESCAPES)
    source = _source(line.level, line.worker, line.logger)
    return f"{_stamp(int(at))}.{_MILLIS[int(at * 1000) % 1000]} {source}: {message}"


# Looked up rather than formatted: formatting took a third of the time of writing a line.
_MILLIS = tuple(f"{millis:03d}" for millis in range(1000))


@functools.lru_cache(maxsize=256)
def _source(level: int, worker: int, logger: str) -> str:
    # The same few combinations make up nearly every line: written once each, not per line.
    return f"{logging.getLevelName(level):<7} {f'w{worker}' if worker else 'sv'} {logger}"


@functools.lru_cache(maxsize=4)
def _stamp(second: int) -> str:
    # One local-time conversion per second of log, not per line.
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(second))


def format_plain_batch(batch: LogBatch) -> str:
    """A batch as plain text, one line each, after a :func:`not_shown` line if it missed some."""
    text = "".join(format_plain(line) + "\n" for line in batch.lines)
    return f"{not_shown(batch.missed)}\n{text}" if batch.missed else text
