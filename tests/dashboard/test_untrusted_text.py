"""Model names and log messages carrying escape sequences and markup are drawn inert."""

from __future__ import annotations

import html
import re
from datetime import UTC

from rich.text import Text

from llm_gateway.dashboard.app import DashboardApp
from llm_gateway.dashboard.inert import inert_str
from llm_gateway.dashboard.log_panel import LogView
from llm_gateway.dashboard.models_table import ModelsTable
from tests.dashboard.fakes import HOSTILE_MESSAGE, HOSTILE_MODEL, FakeFeed, fixed_logs


def _screen_text(app: DashboardApp) -> str:
    """Every text run on the screen, from a screenshot (which draws exactly what is shown)."""
    runs = re.findall(r">([^<]*)</text>", app.export_screenshot())
    return html.unescape("\n".join(runs)).replace("\xa0", " ")


async def test_hostile_model_name_and_log_message_are_shown_as_text() -> None:
    feed = FakeFeed()
    feed.queue(fixed_logs())
    app = DashboardApp(feed, tz=UTC, refresh_s=3600)
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        name_cell = app.query_one(ModelsTable).row(HOSTILE_MODEL)[0]
        log_text = "\n".join(strip.text for strip in app.query_one(LogView).lines)
        screen_text = _screen_text(app)

    assert isinstance(name_cell, Text) and not name_cell.spans
    assert name_cell.plain == r"[b]m[/b]\x1b[2J\x07"
    # The panel wraps long lines, so look for the message's pieces.
    for piece in inert_str(HOSTILE_MESSAGE).split(" "):
        assert piece in log_text
    for shown in (r"[b]m[/b]\x1b[2J\x07", r"\x1b[31mred\x1b[0m", r"[link=http://x]markup[/link]"):
        assert shown in screen_text
    # Nothing that reaches the screen carries a control character of its own.
    assert not any(ord(ch) < 0x20 and ch != "\n" for ch in screen_text)
