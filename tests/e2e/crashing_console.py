"""The console over a feed that fails on its fifth snapshot: a crash inside the dashboard.

``python -m tests.e2e.crashing_console`` runs it in the terminal; the end-to-end test
checks the terminal is restored and the console carries on with plain log lines.
"""

from __future__ import annotations

import asyncio

from llm_gateway.dashboard.console import run_console
from llm_gateway.metrics.snapshot import Snapshot
from tests.dashboard.fakes import FakeFeed

CRASH_AT = 5


class CrashingFeed(FakeFeed):
    def snapshot(self) -> Snapshot:
        if self.snapshot_calls + 1 == CRASH_AT:
            raise RuntimeError("the feed broke")
        return super().snapshot()

    def print_plain_logs(self, *, catching_up: bool = False) -> None:
        super().print_plain_logs(catching_up=catching_up)
        if self.printed:
            print("\n".join(self.printed), flush=True)
            self.printed.clear()


if __name__ == "__main__":
    asyncio.run(
        run_console(CrashingFeed(produce_per_call=1), start_visible=True, stop=asyncio.Event())
    )
