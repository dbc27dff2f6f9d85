"""The dashboard over fixed figures, for snapshot tests and for looking at it by hand.

``python -m tests.dashboard.fake_app`` runs it in the terminal.
"""

from __future__ import annotations

from datetime import UTC

from llm_gateway.dashboard.app import DashboardApp
from llm_gateway.metrics.snapshot import Snapshot
from tests.dashboard.fakes import FakeFeed, fixed_logs, fixed_snapshot


def make_app(*, owns_gateway: bool = True, snapshot: Snapshot | None = None) -> DashboardApp:
    """``owns_gateway=False``: as ``llm-gateway top`` shows it; ``snapshot``: other figures
    than the fixed ones."""
    feed = FakeFeed(snapshot_value=snapshot or fixed_snapshot())
    feed.queue(fixed_logs())
    return DashboardApp(feed, tz=UTC, refresh_s=3600, owns_gateway=owns_gateway)


if __name__ == "__main__":
    print(make_app().run())
