"""Log records as :class:`LogLine` data: collected in every process, printed by the supervisor.

Workers never write log text to the terminal: a :class:`LogCollector` on their root logger
keeps each record as a :class:`LogLine` until the next metrics message ships it. The
supervisor keeps its own records with a :class:`HistoryHandler`, straight in the one
:class:`~llm_gateway.metrics.log_history.LogHistory` that its workers' lines join as they
arrive, and :func:`~llm_gateway.metrics.log_text.format_plain` turns each into exactly one
line of text.

The access log takes a cheaper road. A worker keeps each finished request's record in the
same list (so the access line still comes before the error line of the same request),
and when the list is taken for a report it writes every record as the text the
supervisor will print (:func:`access_text`) and ships it as a string. The supervisor then
stores and prints it as it came, and reads it back into a record only for a view that
draws its parts (the dashboard, ``llm-gateway top``). The text is written in the worker
on purpose: the supervisor shares the CPU with the workers, and whatever it does per
line, even at idle priority, shows in the slowest requests (docs/BENCHMARKS.md measures
it). It is written at the take, a quarter second's lines in one loop, rather than as each
request ends: between requests the formatting code and its caches are cold, and a line
written there cost its request about twice what it costs in the loop. The price: after
the supervisor has been behind, one take may write up to :data:`MAX_PENDING_LINES` lines
at once, some 15 ms of the worker's loop.

A collector holds at most :data:`MAX_PENDING_LINES` lines between takes: when the
supervisor falls behind, later lines are counted instead of kept, and the next take ends
with one warning line that says how many were dropped.
"""

from __future__ import annotations

import logging
import threading
import time

from llm_gateway.metrics.log_history import LogBatch, LogHistory, not_shown
from llm_gateway.metrics.log_text import LogEntry, format_plain, plain_text
from llm_gateway.metrics.record import RequestRecord
from llm_gateway.metrics.snapshot import LogLine

ACCESS_LOGGER = "llm_gateway.access"
"""The access log's logger: its level (``--log-level``) decides whether workers keep records."""

MAX_PENDING_LINES = 10_000
"""How many lines a collector keeps between two takes before it drops new ones.

Workers report every 250 ms, so this allows 40,000 lines a second, far above any normal
rate even with an access-log line per request. It is reached only when the supervisor
stops taking (at idle CPU priority on a saturated machine it may barely run), and then it
caps the memory a worker spends waiting instead of letting the backlog grow without bound.
"""


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


def access_text(record: RequestRecord, worker: int) -> str:
    """A finished request's access line, as the plain log prints it."""
    return plain_text(
        record.finished_at, logging.INFO, worker, ACCESS_LOGGER, access_message(record)
    )


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
    Access lines (:meth:`add_access`) wait in the same list, as records, and count the same way.
    """

    def __init__(
        self, worker: int = 0, level: int = logging.NOTSET, *, limit: int = MAX_PENDING_LINES
    ) -> None:
        super().__init__(worker, level)
        self.limit = limit
        self._lines: list[LogLine | RequestRecord] = []
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
        """Keep a finished request's access line, as its record until :meth:`take` writes it."""
        with self._lines_lock:
            if len(self._lines) < self.limit:
                self._lines.append(record)
            else:
                self._dropped += 1

    def take(self) -> list[LogEntry]:
        """Every line kept since the last call, oldest first, each once; access lines as text.

        If lines were dropped since the last call, one warning line at the end says how
        many. It is added here rather than kept in the list so that it never takes the
        place of a real line and always comes after the lines that did fit.
        """
        with self._lines_lock:
            kept, self._lines = self._lines, []
            dropped, self._dropped = self._dropped, 0
        worker = self.worker
        lines = [
            access_text(line, worker) if isinstance(line, RequestRecord) else line for line in kept
        ]
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


def format_plain_batch(batch: LogBatch) -> str:
    """A batch as plain text, one line each, after a :func:`not_shown` line if it missed some.

    Access lines are text already, and are printed as they came.
    """
    text = "".join(
        (line if isinstance(line, str) else format_plain(line)) + "\n" for line in batch.lines
    )
    return f"{not_shown(batch.missed)}\n{text}" if batch.missed else text
