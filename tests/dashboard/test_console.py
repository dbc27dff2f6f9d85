"""The plain view behind the dashboard, and handing log lines between the two views."""

from __future__ import annotations

import asyncio
import os
import termios
from collections.abc import Iterator
from datetime import UTC

import pytest

from llm_gateway.dashboard.app import DashboardApp
from llm_gateway.dashboard.console import PlainView, keys_without_echo
from llm_gateway.dashboard.log_panel import LogView
from tests.dashboard.fakes import FakeFeed, numbered_lines
from tests.dashboard.polling import reaches, until

FAST_S = 0.01


@pytest.fixture
def terminal() -> Iterator[tuple[int, int]]:
    """A pseudo-terminal: the test types into ``master``; the view reads ``slave``."""
    master, slave = os.openpty()
    try:
        yield master, slave
    finally:
        os.close(master)
        os.close(slave)


def _echo_and_lines(fd: int) -> int:
    flags: int = termios.tcgetattr(fd)[3]
    return flags & (termios.ECHO | termios.ICANON | termios.ISIG)


def test_keys_without_echo_restores_the_mode_even_after_an_error(terminal: tuple[int, int]) -> None:
    _, slave = terminal
    before = termios.tcgetattr(slave)
    assert _echo_and_lines(slave) == termios.ECHO | termios.ICANON | termios.ISIG
    with pytest.raises(RuntimeError), keys_without_echo(slave):
        assert _echo_and_lines(slave) == 0
        raise RuntimeError("boom")
    assert termios.tcgetattr(slave) == before


@pytest.mark.parametrize(
    ("keys", "outcome"), [(b"d", "show"), (b"q", "quit"), (b"\x03", "quit"), (b"xyD", "show")]
)
async def test_plain_view_prints_logs_until_a_key(
    terminal: tuple[int, int], keys: bytes, outcome: str
) -> None:
    master, slave = terminal
    before = termios.tcgetattr(slave)
    feed = FakeFeed(produce_per_call=1)
    view = asyncio.create_task(PlainView(feed, slave, interval_s=FAST_S).run(asyncio.Event()))
    await until(lambda: len(feed.printed) >= 3, what="plain lines printed")
    assert _echo_and_lines(slave) == 0
    os.write(master, keys)
    assert await asyncio.wait_for(view, 5) == outcome
    assert termios.tcgetattr(slave) == before


async def test_plain_view_ends_when_stop_is_set(terminal: tuple[int, int]) -> None:
    _, slave = terminal
    before = termios.tcgetattr(slave)
    stop = asyncio.Event()
    feed = FakeFeed(produce_per_call=1)
    view = asyncio.create_task(PlainView(feed, slave, interval_s=FAST_S).run(stop))
    await until(lambda: len(feed.printed) >= 1, what="plain lines printed")
    stop.set()
    assert await asyncio.wait_for(view, 5) == "quit"
    assert termios.tcgetattr(slave) == before


async def test_both_views_read_one_history_across_repeated_toggles(
    terminal: tuple[int, int],
) -> None:
    """The feed logs three new lines whenever it is read, whichever view reads it.

    Stdout gets every line exactly once, those logged under the dashboard included, and
    the log panel shows the history each time, lines logged in plain mode included.
    """
    master, slave = terminal
    feed = FakeFeed(produce_per_call=3)
    for _ in range(4):
        app = DashboardApp(feed, tz=UTC, refresh_s=FAST_S)
        async with app.run_test(size=(120, 40)) as pilot:
            log_view = app.query_one(LogView)
            await until(
                reaches(lambda: feed.produced, feed.produced + 30), what="dashboard refreshes"
            )
            await pilot.press("d")
        assert app.return_value == "hide"
        panel = [record.message for record in log_view.records]
        assert panel == [f"line {n:04d}" for n in range(len(panel))]

        printed_before = len(feed.printed)
        plain = asyncio.create_task(PlainView(feed, slave, interval_s=FAST_S).run(asyncio.Event()))
        await until(reaches(lambda: len(feed.printed), printed_before + 30), what="plain refreshes")
        os.write(master, b"d")
        assert await asyncio.wait_for(plain, 5) == "show"

    assert feed.produced > 150
    assert len(panel) > 100
    assert feed.printed == [f"line {n:04d}" for n in range(feed.produced)]


async def test_plain_view_catches_up_with_the_last_thousand_lines_and_one_marker(
    terminal: tuple[int, int],
) -> None:
    master, slave = terminal
    feed = FakeFeed()
    feed.queue(numbered_lines(0, 1_500))
    plain = asyncio.create_task(PlainView(feed, slave, interval_s=FAST_S).run(asyncio.Event()))
    await until(lambda: len(feed.printed) > 0, what="the catch-up")
    feed.queue(numbered_lines(1_500, 2))
    await until(lambda: len(feed.printed) == 1_003, what="the lines that follow")
    os.write(master, b"q")
    assert await asyncio.wait_for(plain, 5) == "quit"

    assert feed.printed == [
        "\u2026 500 earlier lines not shown",
        *(f"line {n:04d}" for n in range(500, 1_502)),
    ]
