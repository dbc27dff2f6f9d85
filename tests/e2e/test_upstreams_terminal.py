"""End to end in tmux: the Upstreams panel over the demo's pool, counts exact on screen.

The demo serves ``claude-sonnet-4`` from a pool of three simulated upstreams taking turns,
one of which always answers 503. Every request is served by one of the healthy two, so
their attempts add up to the model's requests, while the failing one's attempts are all
errors and it rests between tries; no client sees an error from it.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.e2e.test_terminal import start_gateway
from tests.e2e.tmux import Tmux


def upstream_row(screen: str, label: str) -> tuple[str, int, int] | None:
    """State, attempts and errors on ``label``'s line of the Upstreams panel."""
    match = re.search(rf"claude-sonnet-4\s+{label}\s+sim\s+(\S+(?: \S+)?)\s+(\d+)\s+(\d+)", screen)
    return None if match is None else (match.group(1), int(match.group(2)), int(match.group(3)))


def model_requests(screen: str) -> int | None:
    """The model's requests that reached its pool: those that failed did not (the demo's
    body without ``messages`` is refused before any attempt; the flaky 503s fail over)."""
    match = re.search(r"claude-sonnet-4\s+(\d+)\s+(\d+)\s+\S+ m?s", screen)
    return None if match is None else int(match.group(1)) - int(match.group(2))


def counts_add_up(screen: str) -> bool:
    east, west = upstream_row(screen, "sim-east"), upstream_row(screen, "sim-west")
    flaky = upstream_row(screen, "sim-flaky")
    requests = model_requests(screen)
    if east is None or west is None or flaky is None or not requests:
        return False
    return (
        flaky[0].startswith("cooling")
        and flaky[1] == flaky[2] > 0
        and east[1] + west[1] == requests
    )


def test_the_upstreams_panel_counts_attempts_where_the_models_table_counts_requests(
    tmux: Tmux, tmp_path: Path
) -> None:
    start_gateway(tmux, tmp_path / "pid", "--dashboard")
    tmux.wait_for(lambda s: "Tab ▸" in s, "the dashboard")
    # Upstreams is last in the Tab cycle: one step back shows it beside Models (wide).
    tmux.press("BTab")
    tmux.wait_for(counts_add_up, "the pool's attempts adding up to its requests")
    tmux.press("q")
    tmux.wait_for(lambda s: "EXIT=0" in s, "the gateway to exit")
