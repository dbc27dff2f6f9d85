"""Every table in the lower-left slot says how many rows it has no room for.

Each panel is fed more rows than the medium and narrow layouts have lines for, brought up
with Tab in the real dashboard, and read as drawn: the first rows, then ``+N more`` for
the rest, so no row leaves the screen unannounced.
"""

from __future__ import annotations

from datetime import UTC

import pytest
from textual.widget import Widget

from llm_gateway.dashboard.app import DashboardApp
from llm_gateway.dashboard.switcher import PanelSwitcher
from tests.dashboard.fakes import CROWDED_ROWS, FakeFeed, crowded_snapshot

# Each panel, its table, and the column that names a row.
PANELS = {
    "Models": ("#models-table", 0),
    "In flight": ("#in-flight-table", 2),
    "Clients": ("#clients-table", 0),
    "Upstreams": ("#upstreams-table", 1),
}


async def drawn(panel: str, size: tuple[int, int]) -> tuple[list[str], int]:
    """The table's lines under its headings, as drawn, and the lines it has."""
    app = DashboardApp(FakeFeed(snapshot_value=crowded_snapshot()), tz=UTC, refresh_s=3600)
    async with app.run_test(size=size) as pilot:
        switcher = app.query_one(PanelSwitcher)
        await pilot.press(*["tab"] * switcher.names.index(panel))
        app.refresh_figures()
        await pilot.pause()
        table = app.query_one(PANELS[panel][0], Widget)
        assert table.display and table.parent is not None and table.parent.display
        text = table.render()
        assert not isinstance(text, str)
        _heading, *lines = str(text.plain).splitlines()  # type: ignore[union-attr]
        return lines, table.size.height


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["narrow", "medium"])
@pytest.mark.parametrize("panel", list(PANELS))
async def test_rows_that_do_not_fit_are_counted_on_the_last_line(
    panel: str, size: tuple[int, int]
) -> None:
    lines, height = await drawn(panel, size)

    *rows, more = lines
    assert 1 + len(lines) == height  # every line the table has is used, and none more
    names = [row.split()[PANELS[panel][1]] for row in rows]
    prefix = {"Models": "model", "In flight": "model", "Clients": "client"}.get(panel, "upstream")
    assert names == [f"{prefix}-{n:02d}" for n in range(len(rows))]
    assert more == f"+{CROWDED_ROWS - len(rows)} more"
