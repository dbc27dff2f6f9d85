"""What the supervisor offers the console: the figures to draw and the log lines to show.

The supervisor implements :class:`DashboardFeed`; the console and the dashboard only
read through it, on the supervisor's event loop, so neither ever touches a worker.
"""

from __future__ import annotations

from typing import Protocol

from llm_gateway.metrics.snapshot import LogLine, Snapshot


class DashboardFeed(Protocol):
    version: str
    listen_url: str
    """Where the gateway listens, e.g. ``http://127.0.0.1:8000``."""

    def snapshot(self) -> Snapshot:
        """The metrics as of now; cheap enough to call four times a second."""
        ...

    def take_logs(self) -> list[LogLine]:
        """Log lines that arrived since the last call, in order; each is handed out once."""
        ...

    def print_plain_logs(self) -> None:
        """Write pending log lines to stdout as plain text (the dashboard-hidden view)."""
        ...
