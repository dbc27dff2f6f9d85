"""The lower-left panels under Textual's Pilot: Tab and Shift+Tab, titles, wide pairs, help.

The tests walk whatever cycle ``switchable_panels`` defines, so they hold as panels join.
"""

from __future__ import annotations

import re

import pytest
from rich.text import Text
from textual.content import Content

from llm_gateway.dashboard.app import DashboardApp
from llm_gateway.dashboard.help import HelpScreen
from llm_gateway.dashboard.log_panel import FilterInput
from llm_gateway.dashboard.switcher import TAB_HINT, PanelSwitcher, strip
from tests.dashboard.test_app import make_app, plain_title


def up(app: DashboardApp) -> list[str]:
    """The titles of the panels shown in the slot, left to right, as a person sees them."""
    shown = [p for p in app.query_one(PanelSwitcher).panels if p.display]
    return [p.TITLE for p in sorted(shown, key=lambda p: p.region.x)]


async def test_the_cycle_starts_with_models_and_holds_upstreams() -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)):
        names = app.query_one(PanelSwitcher).names
        assert names[0] == "Models" and "Upstreams" in names
        assert len(set(names)) == len(names)


async def test_tab_steps_through_the_cycle_in_order_and_wraps_around() -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        names = app.query_one(PanelSwitcher).names
        seen = []
        for _ in names:
            seen.extend(up(app))
            await pilot.press("tab")
        assert seen == list(names)
        assert up(app) == ["Models"], "Tab after the last panel wraps to the first"


async def test_shift_tab_steps_back_and_wraps_around() -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        names = app.query_one(PanelSwitcher).names
        seen = []
        for _ in names:
            await pilot.press("shift+tab")
            seen.extend(up(app))
        assert seen == [*reversed(names[1:]), names[0]]
        await pilot.press("tab", "shift+tab")
        assert up(app) == ["Models"]


async def test_the_title_names_every_panel_and_the_key() -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        switcher = app.query_one(PanelSwitcher)
        await pilot.press("tab")
        (panel,) = switcher.showing
        title = plain_title(panel)
        assert title == " · ".join(switcher.names) + f"  {TAB_HINT}"
        others = [name for name in switcher.names if name != panel.TITLE]
        assert muted_runs(panel.border_title or "") == [*others, TAB_HINT]


def muted_runs(markup: str) -> list[str]:
    """The words of ``markup`` drawn muted."""
    content = Content.from_markup(markup)
    runs = (content.plain[s.start : s.end] for s in content.spans if "muted" in str(s.style))
    return [word for run in runs for word in re.split(r" · |  ", run) if word.strip(" ·")]


def test_the_strip_mutes_the_names_not_shown() -> None:
    markup = strip(["Models", "In flight", "Upstreams"], {0, 1})
    assert Content.from_markup(markup).plain == "Models · In flight · Upstreams  Tab ▸"
    assert muted_runs(markup) == ["Upstreams", TAB_HINT]


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["narrow", "medium"])
async def test_narrow_and_medium_show_one_panel(size: tuple[int, int]) -> None:
    app = make_app()
    async with app.run_test(size=size) as pilot:
        assert up(app) == ["Models"]
        await pilot.press("tab")
        assert up(app) == [app.query_one(PanelSwitcher).names[1]]


async def test_wide_shows_the_panel_up_and_the_next_side_by_side() -> None:
    app = make_app()
    async with app.run_test(size=(200, 60)) as pilot:
        names = app.query_one(PanelSwitcher).names
        for i in range(len(names)):
            assert up(app) == [names[i], names[(i + 1) % len(names)]]
            await pilot.press("tab")
        assert up(app) == list(names[:2])
        left, right = app.query_one(PanelSwitcher).showing
        assert left.region.y == right.region.y
        assert left.region.right <= right.region.x
        assert plain_title(left).startswith(" · ".join(names))
        assert plain_title(right) == right.TITLE

        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        assert up(app) == ["Models"]


async def test_a_narrower_wide_layout_shows_one_panel_rather_than_two_cut_short() -> None:
    app = make_app()
    async with app.run_test(size=(170, 50)) as pilot:
        assert app.screen.has_class("-wide")
        assert up(app) == ["Models"]
        await pilot.resize_terminal(200, 60)
        await pilot.pause()
        assert len(up(app)) == 2


@pytest.mark.parametrize("panel", ["Models", "In flight", "Clients", "Upstreams"])
async def test_each_panel_in_a_wide_pair_has_room_for_its_whole_table(panel: str) -> None:
    app = make_app()
    async with app.run_test(size=(190, 50)) as pilot:
        switcher = app.query_one(PanelSwitcher)
        await pilot.press(*["tab"] * switcher.names.index(panel))
        await pilot.pause()
        for shown in switcher.showing:
            table = shown.children[0]
            drawn = table.render()
            assert isinstance(drawn, Text)
            widest = max(line.cell_len for line in drawn.split())
            assert table.content_region.width >= widest, shown.TITLE


async def test_tab_is_the_filters_own_while_it_has_focus() -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("slash", "a", "tab")
        assert up(app) == ["Models"]
        await pilot.press("escape")
        assert not isinstance(app.focused, FilterInput)
        await pilot.press("tab")
        assert up(app) == [app.query_one(PanelSwitcher).names[1]]


async def test_the_footer_and_the_help_list_tab() -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        footer = app.export_screenshot().replace("&#160;", " ").split("\n")
        assert any("tab/⇧tab" in line and "Panels" in line for line in footer)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.pause()
        text = app.export_screenshot().replace("&#160;", " ")
        assert "Tab, Shift+Tab" in text
        # The line may wrap between names.
        assert all(f"{name}," in text for name in app.query_one(PanelSwitcher).names[:-1])


async def test_tab_does_not_switch_behind_the_help() -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("question_mark", "tab")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert up(app) == ["Models"]


async def test_the_viewer_switches_panels_too() -> None:
    app = make_app(owns_gateway=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("tab")
        assert up(app) == [app.query_one(PanelSwitcher).names[1]]
