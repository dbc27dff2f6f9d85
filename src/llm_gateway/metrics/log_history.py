"""One bounded history of log lines, read by any number of readers at their own pace.

The supervisor appends every line (its own and its workers') to one :class:`LogHistory`.
Each view keeps a :class:`LogReader`, a cursor into it: the plain view on stdout, the
dashboard's log panel, and each remote viewer. Reading never takes a line away from
another reader, so switching views loses nothing and shows nothing twice, and a viewer
that attaches late still gets the recent history.

A line is a :data:`~llm_gateway.metrics.log_text.LogEntry`: access lines stay the text a
worker wrote, and a view that draws a line's parts reads it back with
:func:`~llm_gateway.metrics.log_text.as_log_line`.

Lines are numbered from 0 as they arrive; a reader remembers the number of the next line
it has not read. The history keeps the last ``capacity`` lines; a reader that falls
further behind than that is told how many lines it missed, rather than losing them
silently.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import islice

from llm_gateway.metrics.log_text import LogEntry, as_log_line
from llm_gateway.metrics.snapshot import LogLine

HISTORY_LINES = 10_000
"""How many lines the supervisor keeps for its readers (a few MB at most)."""


def not_shown(missed: int) -> str:
    """The one line that stands for ``missed`` lines a view skipped or never got."""
    return f"\u2026 {missed:,} earlier lines not shown"


@dataclass(frozen=True, slots=True)
class LogBatch:
    """What one read returned: the lines in order, after ``missed`` lines it will never see."""

    lines: Sequence[LogEntry]
    missed: int = 0

    def records(self) -> list[LogLine]:
        """The lines as records, access lines read back from their text."""
        return [as_log_line(line) for line in self.lines]


class LogHistory:
    """The last ``capacity`` log lines, appended from any thread, read through cursors."""

    def __init__(self, capacity: int = HISTORY_LINES) -> None:
        self._lines: deque[LogEntry] = deque(maxlen=capacity)
        self._end = 0
        """The number the next line will get: every line ever appended, kept or not."""
        # Records can come from any thread; the lock is only ever held for a deque operation.
        self._lock = threading.Lock()

    @property
    def end(self) -> int:
        return self._end

    def append(self, line: LogEntry) -> None:
        with self._lock:
            self._lines.append(line)
            self._end += 1

    def extend(self, lines: Iterable[LogEntry]) -> None:
        lines = list(lines)
        with self._lock:
            self._lines.extend(lines)
            self._end += len(lines)

    def reader(self, *, back: int = 0) -> LogReader:
        """A cursor that first reads the last ``back`` lines kept, then every new one."""
        with self._lock:
            start = self._end - min(back, len(self._lines))
        return LogReader(self, start)

    def read_from(self, position: int, limit: int | None = None) -> tuple[LogBatch, int]:
        """Lines from number ``position`` on, at most the last ``limit``; and the new position."""
        with self._lock:
            end, kept = self._end, len(self._lines)
            first = max(position, end - kept)
            if limit is not None:
                first = max(first, end - limit)
            # Count from the newest end: a following reader asks for a few recent lines.
            lines = list(islice(reversed(self._lines), end - first))
        lines.reverse()
        return LogBatch(lines, missed=first - position if first > position else 0), end


class LogReader:
    """One reader's place in a :class:`LogHistory`."""

    __slots__ = ("_history", "position")

    def __init__(self, history: LogHistory, position: int) -> None:
        self._history = history
        self.position = position
        """The number of the next line this reader has not read."""

    @property
    def pending(self) -> int:
        """Lines appended since this reader last read (some may be gone from the history)."""
        return self._history.end - self.position

    def read(self, limit: int | None = None) -> LogBatch:
        """Every line since the last read, oldest first; only the last ``limit`` if given.

        The lines skipped for ``limit``, and any that left the history before this reader
        got to them, are counted in :attr:`LogBatch.missed`.
        """
        batch, self.position = self._history.read_from(self.position, limit)
        return batch
