"""Screenshots (SVG) of the dashboard over fixed figures, at the three layouts' sizes.

Update after an intended change with ``pytest tests/dashboard --snapshot-update`` and
look at the diff in ``snapshot_report.html``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from llm_gateway.dashboard.switcher import PanelSwitcher
from tests.dashboard.fake_app import make_app
from tests.dashboard.fakes import crowded_snapshot

SnapCompare = Callable[..., bool]


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (200, 60)], ids=["narrow", "medium", "wide"])
def test_dashboard(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    assert snap_compare(make_app(), terminal_size=size)


@pytest.mark.parametrize("panel", ["In flight", "Clients", "Upstreams"])
@pytest.mark.parametrize("size", [(80, 24), (120, 40), (200, 60)], ids=["narrow", "medium", "wide"])
def test_switched_panel(snap_compare: SnapCompare, size: tuple[int, int], panel: str) -> None:
    """Each lower-left panel after Models, brought up with Tab (wide: with the next beside)."""

    async def bring_up(pilot: Pilot[Any]) -> None:
        switcher = pilot.app.query_one(PanelSwitcher)
        await pilot.press(*["tab"] * switcher.names.index(panel))

    assert snap_compare(make_app(), terminal_size=size, run_before=bring_up)


@pytest.mark.parametrize("panel", ["Models", "In flight", "Clients", "Upstreams"])
def test_crowded_panel(snap_compare: SnapCompare, panel: str) -> None:
    """More rows than fit: the first ones, then ``+N more`` on the last line."""

    async def bring_up(pilot: Pilot[Any]) -> None:
        switcher = pilot.app.query_one(PanelSwitcher)
        await pilot.press(*["tab"] * switcher.names.index(panel))

    app = make_app(snapshot=crowded_snapshot())
    assert snap_compare(app, terminal_size=(120, 40), run_before=bring_up)


def test_help(snap_compare: SnapCompare) -> None:
    assert snap_compare(make_app(), press=["question_mark"], terminal_size=(80, 24))


def test_help_of_top(snap_compare: SnapCompare) -> None:
    """As a viewer: q detaches, no d, in the footer and in the help."""
    app = make_app(owns_gateway=False)
    assert snap_compare(app, press=["question_mark"], terminal_size=(80, 24))


def test_too_small(snap_compare: SnapCompare) -> None:
    assert snap_compare(make_app(), terminal_size=(60, 20))


def test_paused_and_filtered_log(snap_compare: SnapCompare) -> None:
    async def scroll_and_filter(pilot: Pilot[Any]) -> None:
        await pilot.press("up", "slash", *"req 1", "enter")

    assert snap_compare(make_app(), terminal_size=(120, 40), run_before=scroll_and_filter)
