"""The console: the dashboard, or plain log lines behind it, toggled with ``d``.

The supervisor calls :func:`run_console` when stdin and stdout are a terminal. Both
views read the one log history, each from its own place in it. The dashboard's log panel
starts with the recent history, lines logged in plain mode included. :class:`PlainView`
prints from where stdout last stopped (``feed.print_plain_logs``): on taking over it
first catches up with what was logged under the dashboard, the last thousand lines at
most, so every line reaches stdout once or is counted as not shown.

The terminal is always given back as it was: Textual restores it when the app ends
(however it ends), and :func:`keys_without_echo` restores the plain view's key mode in
a ``finally``, so a SIGTERM (the ``stop`` event) or an error leaves a usable shell.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import termios
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

from llm_gateway.dashboard.app import REFRESH_S, DashboardApp, Outcome
from llm_gateway.dashboard.feed import ConsoleFeed, DashboardFeed
from llm_gateway.dashboard.hangup import HangUpTolerantDriver

PlainOutcome = Literal["quit", "show"]

_SHOW_KEYS = frozenset(b"dD")
_QUIT_KEYS = frozenset(b"qQ\x03")
"""``q`` and Ctrl+C, which arrives as a byte because the plain view turns signals off."""


async def run_console(feed: ConsoleFeed, *, start_visible: bool, stop: asyncio.Event) -> None:
    """Show the dashboard or plain logs until the user quits or ``stop`` is set."""
    visible = start_visible
    while not stop.is_set():
        if visible:
            if await show_dashboard(feed, stop) == "quit":
                return
        elif await PlainView(feed, sys.stdin.fileno()).run(stop) == "quit":
            return
        visible = not visible


async def show_dashboard(feed: DashboardFeed, stop: asyncio.Event) -> Outcome:
    """Run the dashboard until it ends or ``stop`` is set; ``"hide"`` if it crashed.

    A crash in the dashboard should not take the gateway down: Textual restores the
    terminal and prints the traceback, and the console carries on with plain logs.
    """
    app = DashboardApp(feed)
    app.driver_class = HangUpTolerantDriver

    async def exit_on_stop() -> None:
        await stop.wait()
        app.exit("quit")

    stopper = asyncio.create_task(exit_on_stop())
    try:
        outcome = await app.run_async()
    finally:
        stopper.cancel()
    if app.return_code:
        print(
            "llm-gateway: the dashboard stopped after the error above;"
            " showing plain log lines (d: try the dashboard again, q: quit)",
            flush=True,
        )
        return "hide"
    return outcome or "quit"


@contextmanager
def keys_without_echo(fd: int) -> Iterator[None]:
    """Let ``fd`` deliver single key presses, unechoed, with Ctrl+C as a plain byte.

    Like :func:`tty.setcbreak`, plus ``ISIG`` off so Ctrl+C quits the way ``q`` does
    rather than as a signal. Output processing stays on, so printed lines still end in
    CR LF. The previous mode is restored on every way out, unless the terminal has hung
    up: it then has no mode left to restore.
    """
    saved = termios.tcgetattr(fd)
    mode = termios.tcgetattr(fd)
    mode[3] &= ~(termios.ECHO | termios.ICANON | termios.ISIG)
    mode[6][termios.VMIN] = 1
    mode[6][termios.VTIME] = 0
    termios.tcsetattr(fd, termios.TCSANOW, mode)
    try:
        yield
    finally:
        with contextlib.suppress(termios.error):
            termios.tcsetattr(fd, termios.TCSADRAIN, saved)


class PlainView:
    """Plain log lines on stdout every 250 ms; ``d`` shows the dashboard, ``q`` quits."""

    def __init__(self, feed: ConsoleFeed, keys_fd: int, *, interval_s: float = REFRESH_S) -> None:
        self._feed = feed
        self._fd = keys_fd
        self._interval_s = interval_s

    async def run(self, stop: asyncio.Event) -> PlainOutcome:
        loop = asyncio.get_running_loop()
        choice: asyncio.Future[PlainOutcome] = loop.create_future()

        def read_keys() -> None:
            try:
                data = os.read(self._fd, 64)
            except (BlockingIOError, InterruptedError):
                return
            if not data:
                # The terminal went away: nobody is left to press a key.
                loop.remove_reader(self._fd)
                return
            for key in data:
                if choice.done():
                    return
                if key in _SHOW_KEYS:
                    choice.set_result("show")
                elif key in _QUIT_KEYS:
                    choice.set_result("quit")

        stopped = asyncio.ensure_future(stop.wait())
        with keys_without_echo(self._fd):
            loop.add_reader(self._fd, read_keys)
            try:
                self._feed.print_plain_logs(catching_up=True)
                while True:
                    self._feed.print_plain_logs()
                    done, _ = await asyncio.wait(
                        (choice, stopped),
                        timeout=self._interval_s,
                        return_when=asyncio.FIRST_COMPLETED,
                    )
                    if done:
                        break
            finally:
                loop.remove_reader(self._fd)
                stopped.cancel()
        self._feed.print_plain_logs()
        return choice.result() if choice.done() else "quit"
