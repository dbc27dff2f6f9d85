"""The dashboard app under Textual's Pilot: keys, log scrolling and filtering, layouts."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC
from typing import Any

import pytest
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Static

from llm_gateway.dashboard.app import DashboardApp, layout_for
from llm_gateway.dashboard.help import HelpScreen
from llm_gateway.dashboard.log_panel import FilterInput, LogPanel, LogView
from llm_gateway.dashboard.models_table import ModelsPanel
from llm_gateway.dashboard.panels import LatencyPanel, RequestsPanel
from llm_gateway.metrics.log_text import format_plain
from llm_gateway.metrics.snapshot import LogLine
from tests.dashboard.fakes import (
    EPOCH,
    FakeFeed,
    fixed_logs,
    fixed_series,
    fixed_snapshot,
    numbered_lines,
)

PANELS = (
    "#requests",
    "#latency",
    "#connections",
    "#errors",
    "#tokens",
    "#resources",
    "#models",
    "#log",
)


def make_app(feed: FakeFeed | None = None, **options: Any) -> DashboardApp:
    # The periodic refresh is pushed out of the way: tests call refresh_figures themselves.
    return DashboardApp(feed or FakeFeed(), tz=UTC, refresh_s=3600, **options)


def plain_title(widget: Widget) -> str:
    """A border title as drawn (the attribute reads back as markup)."""
    return Content.from_markup(widget.border_title or "").plain


def shown_messages(view: LogView) -> list[str]:
    """The text of every drawn log row (wrapped rows included)."""
    return [strip.text.rstrip() for strip in view.lines]


@pytest.mark.parametrize("key", ["q", "escape", "ctrl+c"])
async def test_quit_keys_end_the_app_with_quit(key: str) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await pilot.press(key)
    assert app.return_value == "quit"


async def test_d_ends_the_app_with_hide() -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await pilot.press("d")
    assert app.return_value == "hide"


async def test_refresh_pulls_a_snapshot_and_the_new_log_lines() -> None:
    feed = FakeFeed()
    feed.queue(numbered_lines(0, 3))
    app = make_app(feed)
    async with app.run_test(size=(120, 40)) as pilot:
        view = app.query_one(LogView)
        assert [r.message for r in view.records] == ["line 0000", "line 0001", "line 0002"]
        calls = feed.snapshot_calls
        feed.queue(numbered_lines(3, 2))
        app.refresh_figures()
        await pilot.pause()
        assert feed.snapshot_calls == calls + 1
        assert [r.message for r in view.records][-2:] == ["line 0003", "line 0004"]


async def test_the_figures_shown_come_from_the_snapshot() -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.export_screenshot()
    for figure in (
        "23 req/s",
        "p50 128 ms",
        "p99 1.93 s",
        "7 active",
        "4.1M",
        "up 3h25m",
        "4 workers",
    ):
        assert figure.replace(" ", "&#160;") in screen, figure


async def test_following_draws_the_newest_screenful_and_the_rest_once_scrolled_back() -> None:
    feed = FakeFeed()
    app = make_app(feed)
    async with app.run_test(size=(120, 40)) as pilot:
        view = app.query_one(LogView)
        await pilot.pause()
        feed.queue(numbered_lines(0, 600))
        app.refresh_figures()
        await pilot.pause()
        drawn = shown_messages(view)
        assert len(view.records) == 600
        assert 0 < len(drawn) <= view.size.height
        assert drawn[-1].endswith("line 0599")

        await pilot.press("up")
        await pilot.pause()
        assert [row.split(maxsplit=2)[2] for row in shown_messages(view)] == [
            f"line {n:04d}" for n in range(600)
        ]
        assert view.scroll_y == view.max_scroll_y - 1


async def test_the_log_follows_until_scrolled_up_and_end_follows_again() -> None:
    feed = FakeFeed()
    feed.queue(numbered_lines(0, 200))
    app = make_app(feed)
    async with app.run_test(size=(120, 40)) as pilot:
        view = app.query_one(LogView)
        panel = app.query_one(LogPanel)
        await pilot.pause()
        assert view.following and view.scroll_y == view.max_scroll_y > 0
        assert panel.border_subtitle == "following"

        await pilot.press("up")
        await pilot.pause()
        assert not view.following
        assert view.scroll_y == view.max_scroll_y - 1

        feed.queue(numbered_lines(200, 5))
        app.refresh_figures()
        await pilot.pause()
        assert view.unseen == 5
        assert view.scroll_y < view.max_scroll_y - 5
        assert "paused" in str(panel.border_subtitle) and "5 new" in str(panel.border_subtitle)

        await pilot.press("home")
        await pilot.pause()
        assert view.scroll_y == 0
        await pilot.press("pagedown")
        await pilot.pause()
        page = view.scroll_y
        assert page > 0 and not view.following
        await pilot.press("down")
        await pilot.pause()
        assert view.scroll_y == page + 1
        await pilot.press("pageup")
        await pilot.pause()
        assert view.scroll_y == 1

        await pilot.press("end")
        await pilot.pause()
        assert view.following and view.unseen == 0
        assert view.scroll_y == view.max_scroll_y
        assert panel.border_subtitle == "following"
        feed.queue(numbered_lines(205, 3))
        app.refresh_figures()
        await pilot.pause()
        assert view.scroll_y == view.max_scroll_y
        assert shown_messages(view)[-1].endswith("line 0207")


async def test_slash_filters_the_log_by_text_and_esc_clears_it() -> None:
    feed = FakeFeed()
    feed.queue(
        LogLine(EPOCH + n, 20, "llm_gateway", f"{word} {n}")
        for n, word in enumerate(["alpha", "QUADRANT", "beta", "quads", "gamma"])
    )
    app = make_app(feed)
    async with app.run_test(size=(120, 40)) as pilot:
        view = app.query_one(LogView)
        filter_input = app.query_one(FilterInput)
        assert not filter_input.display
        await pilot.press("slash")
        assert filter_input.display and filter_input.has_focus
        # Letters that are also keys (q, d) go into the filter, not to the bindings.
        await pilot.press(*"quad")
        await pilot.pause()
        assert app.return_value is None
        assert [row.split(maxsplit=2)[2] for row in shown_messages(view)] == [
            "QUADRANT 1",
            "quads 3",
        ]
        assert plain_title(app.query_one(LogPanel)) == "Log · filter: quad"

        await pilot.press("enter")
        assert not filter_input.has_focus and filter_input.display
        feed.queue(
            [
                LogLine(EPOCH + 9, 20, "llm_gateway", "quadruple 9"),
                LogLine(EPOCH + 9, 20, "x", "zeta"),
            ]
        )
        app.refresh_figures()
        await pilot.pause()
        assert shown_messages(view)[-1].endswith("quadruple 9")
        assert len(view.lines) == 3

        await pilot.press("slash", "escape")
        await pilot.pause()
        assert not filter_input.display and not filter_input.has_focus
        assert len(view.lines) == 7
        assert plain_title(app.query_one(LogPanel)) == "Log"
        await pilot.press("q")
    assert app.return_value == "quit"


async def test_question_mark_shows_every_key_and_closes_again() -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.pause()
        text = app.export_screenshot()
        for key in ("Esc", "Ctrl+C", "PgUp", "PgDn", "Home", "End", "Up", "Down"):
            assert key in text
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("question_mark")
        assert not isinstance(app.screen, HelpScreen)
    assert app.return_value is None


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((200, 60), "wide"),
        ((160, 45), "wide"),
        ((159, 60), "medium"),
        ((120, 40), "medium"),
        ((110, 32), "medium"),
        ((200, 31), "narrow"),
        ((80, 24), "narrow"),
        ((79, 24), "too-small"),
        ((80, 23), "too-small"),
    ],
)
def test_layout_for_size(size: tuple[int, int], expected: str) -> None:
    assert layout_for(*size) == expected


def _visible(app: DashboardApp, selector: str) -> bool:
    widget = app.query_one(selector, Widget)
    region = widget.region
    return region.area > 0 and app.screen.region.contains_region(region)


async def test_resizing_switches_layouts_live() -> None:
    app = make_app()
    async with app.run_test(size=(200, 60)) as pilot:
        models, log = app.query_one("#models"), app.query_one("#log")

        assert app.screen.has_class("-wide")
        assert all(_visible(app, panel) for panel in PANELS)
        assert log.region.y > models.region.y, "wide: the log below the models"
        assert log.region.width == app.size.width, "wide: the log across the screen"

        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        assert app.screen.has_class("-medium") and not app.screen.has_class("-wide")
        assert all(_visible(app, panel) for panel in PANELS)
        assert log.region.y > models.region.y, "medium: the log below the models"

        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert app.screen.has_class("-narrow")
        assert all(_visible(app, panel) for panel in PANELS)

        await pilot.resize_terminal(70, 20)
        await pilot.pause()
        assert app.screen.has_class("-too-small")
        message = app.query_one("#too-small", Static)
        assert message.display and not app.query_one("#body").display
        assert "70x20" in str(message.render()) and "80x24" in str(message.render())

        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        assert app.screen.has_class("-medium") and not app.screen.has_class("-too-small")
        assert all(_visible(app, panel) for panel in PANELS)


async def test_the_log_keeps_a_bounded_buffer_of_info_and_above() -> None:
    feed = FakeFeed()
    feed.queue(fixed_logs())
    feed.queue(numbered_lines(0, 120))
    app = make_app(feed, log_buffer_lines=50)
    async with app.run_test(size=(120, 40)):
        records = app.query_one(LogView).records
    assert len(records) == 50
    assert records[0].message == "line 0070" and records[-1].message == "line 0119"
    assert all(record.level >= 20 for record in records)


async def test_an_access_line_kept_as_text_is_drawn_as_any_other() -> None:
    feed = FakeFeed()
    access = LogLine(EPOCH + 1, 20, "llm_gateway.access", "POST /v1/messages status=200", 1)
    feed.history.append(format_plain(access))
    app = make_app(feed)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        view = app.query_one(LogView)
        assert view.records == (access,)
        assert shown_messages(view) == ["14:13:21 INFO  POST /v1/messages status=200"]


async def test_access_lines_kept_as_text_are_filtered_by_their_message_alone() -> None:
    feed = FakeFeed()
    for n, path in enumerate(("/v1/messages", "/v1/responses")):
        access = LogLine(EPOCH + n, 20, "llm_gateway.access", f"POST {path} status=200", 1)
        feed.history.append(format_plain(access))
    app = make_app(feed)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        view = app.query_one(LogView)
        # The logger's name is in each line's text, not in its message.
        view.needle = "access"
        await pilot.pause()
        assert shown_messages(view) == []
        view.needle = "RESPONSES"
        await pilot.pause()
        assert shown_messages(view) == ["14:13:21 INFO  POST /v1/responses status=200"]


async def test_a_dashboard_at_warning_leaves_access_lines_kept_as_text_out() -> None:
    feed = FakeFeed()
    feed.log_level = logging.WARNING
    feed.history.append(format_plain(LogLine(EPOCH, 20, "llm_gateway.access", "POST /v1", 1)))
    feed.history.append(LogLine(EPOCH + 1, 30, "llm_gateway.supervisor", "worker 1 exited", 0))
    app = make_app(feed)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        view = app.query_one(LogView)
        assert [record.message for record in view.records] == ["worker 1 exited"]


async def test_a_slash_typed_into_the_filter_is_text() -> None:
    feed = FakeFeed()
    feed.queue(
        LogLine(EPOCH, 20, "llm_gateway.access", f"POST {path} 200")
        for path in ("/v1/messages", "/v2/x")
    )
    app = make_app(feed)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("slash", *"/v1", "slash")
        await pilot.pause()
        assert app.query_one(FilterInput).value == "/v1/"
        assert [row.split(maxsplit=2)[2] for row in shown_messages(app.query_one(LogView))] == [
            "POST /v1/messages 200"
        ]


async def test_the_models_panel_says_when_the_cap_on_names_was_reached() -> None:
    feed = FakeFeed(snapshot_value=replace(fixed_snapshot(), models_capped=True))
    app = make_app(feed)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        panel = app.query_one(ModelsPanel)
        assert panel.border_subtitle == "4 rows · cap reached: new names in (other models)"


async def test_w_cycles_the_chart_window_and_each_chart_says_which() -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        panel = app.query_one(RequestsPanel)
        windows = []
        for _ in range(4):
            windows.append(str(panel.border_subtitle).split(" · ")[0])
            await pilot.press("w")
            await pilot.pause()
    assert windows == ["15 min", "1 min", "5 min", "15 min"]


async def test_a_young_gateways_charts_span_its_uptime() -> None:
    snapshot = fixed_snapshot()
    young = replace(snapshot, series=fixed_series(42))
    app = make_app(FakeFeed(snapshot_value=young))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert str(app.query_one(LatencyPanel).border_subtitle).startswith("42 s of 15 min · ")


async def test_narrow_charts_say_their_span_in_the_title_having_no_bottom_border() -> None:
    app = make_app(FakeFeed(snapshot_value=replace(fixed_snapshot(), series=fixed_series(42))))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        requests = app.query_one(RequestsPanel)
        assert plain_title(requests) == "Requests 42 s of 15 min"
        await pilot.press("w")
        assert plain_title(requests) == "Requests 42 s of 1 min"

        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        app.refresh_figures()
        assert plain_title(requests) == "Requests"
        assert str(requests.border_subtitle).startswith("42 s of 1 min · ")
