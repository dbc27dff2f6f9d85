"""What the supervisor offers the console: the figures to draw and the log lines to show.

The supervisor implements :class:`ConsoleFeed`; the console and the dashboard only
read through it, on the supervisor's event loop, so neither ever touches a worker. The
dashboard needs only the :class:`DashboardFeed` part, which the control socket serves
to ``llm-gateway top`` (:mod:`.remote` reads it back), so both draw the same feed. Log
lines come from one history that every view reads with its own
:class:`~llm_gateway.metrics.log_history.LogReader`, so a line read by one view is still
there for the other.
"""

from __future__ import annotations

from typing import Protocol

from llm_gateway.metrics.log_history import LogReader
from llm_gateway.metrics.snapshot import Snapshot


class DashboardFeed(Protocol):
    version: str
    listen_url: str
    """Where the gateway listens, e.g. ``http://127.0.0.1:8000``."""

    @property
    def log_level(self) -> int:
        """The ``--log-level``: the lowest level of the lines the history holds and views show."""
        ...

    def snapshot(self) -> Snapshot:
        """The metrics as of now; cheap enough to call four times a second."""
        ...

    def log_reader(self, back: int) -> LogReader:
        """A new reader of the log history that starts with its last ``back`` lines."""
        ...


class ConsoleFeed(DashboardFeed, Protocol):
    """The dashboard's feed, plus the plain view that only the gateway's own terminal has."""

    def print_plain_logs(self, *, catching_up: bool = False) -> None:
        """Write the lines stdout has not shown yet as plain text (the dashboard-hidden view).

        ``catching_up``: the dashboard was showing; print only the last thousand or so,
        after one line that says how many earlier ones are not shown.
        """
        ...
