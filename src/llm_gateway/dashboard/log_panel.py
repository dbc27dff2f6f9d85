"""The log panel: recent log lines, following the newest until the user scrolls up.

:class:`LogView` keeps the last ``buffer_lines`` lines itself, so it can redraw them when
the filter changes or the width does (a :class:`RichLog` wraps a line once, when it is
written). It follows new lines as they arrive; scrolling up pauses that, and End resumes
it. While it follows, it draws only the newest screenful of a batch, since drawing a line
is costly and no one reads thousands a second; scrolling back draws every kept line
first. It keeps the lines as they come (access lines as text) and reads one into a
record only to draw it or to filter by its message. Messages are drawn inert: a log
line that quotes a client's model name cannot restyle the panel or reach the terminal as
an escape.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Iterable
from datetime import datetime, tzinfo
from typing import Literal, Self

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.geometry import Region
from textual.reactive import reactive
from textual.widgets import Input, RichLog

from llm_gateway.dashboard.inert import inert
from llm_gateway.metrics.log_history import LogBatch, not_shown
from llm_gateway.metrics.log_text import LogEntry, as_log_line
from llm_gateway.metrics.snapshot import LogLine

DEFAULT_BUFFER_LINES = 1000

ScrollKey = Literal["up", "down", "pageup", "pagedown", "home", "end"]

_LEVELS = {
    logging.DEBUG: ("DEBUG", "dim"),
    logging.INFO: ("INFO ", "green"),
    logging.WARNING: ("WARN ", "yellow"),
    logging.ERROR: ("ERROR", "bold red"),
    logging.CRITICAL: ("CRIT ", "bold white on red"),
}


def format_line(line: LogLine, tz: tzinfo | None) -> Text:
    """``12:03:04 WARN  message``: time, a coloured level, and the message drawn inert."""
    level_floor = max((lv for lv in _LEVELS if lv <= line.level), default=logging.DEBUG)
    name, style = _LEVELS[level_floor]
    stamp = datetime.fromtimestamp(line.time, tz).strftime("%H:%M:%S")
    text = Text.assemble((stamp, "dim"), " ", (name, style), " ", end="")
    text.append_text(inert(line.message, keep_newlines=True))
    return text


class LogView(RichLog):
    """A bounded, filterable log that follows the newest line unless scrolled up."""

    following: reactive[bool] = reactive(True)
    unseen: reactive[int] = reactive(0)
    """Lines that arrived (and match the filter) since following stopped."""
    needle: reactive[str] = reactive("")
    """Show only lines whose message contains this (case-insensitive)."""

    can_focus = False

    def __init__(
        self,
        *,
        buffer_lines: int = DEFAULT_BUFFER_LINES,
        min_level: int = logging.INFO,
        tz: tzinfo | None = None,
    ) -> None:
        super().__init__(max_lines=buffer_lines, wrap=True, auto_scroll=False, id="log-view")
        self._records: deque[LogEntry] = deque(maxlen=buffer_lines)
        self._min_level = min_level
        self._tz = tz
        self._drawn_width = 0
        self._skipped = False
        """Whether some kept lines were left undrawn while following (see :meth:`add`)."""

    def refresh(
        self,
        *regions: Region,
        repaint: bool = True,
        layout: bool = False,
        recompose: bool = False,
    ) -> Self:
        """Repaint for new lines instead of laying out the whole screen again.

        Every line written grows the view's virtual size, which Textual answers with a
        layout of the whole screen: most of the dashboard's CPU at four frames a second.
        The panel gives this view its size whatever its lines, so unless that changes
        which scrollbars show (which takes room), updating the scroll range is enough.
        """
        if layout and not recompose and self.is_mounted:
            shown = (self.show_vertical_scrollbar, self.show_horizontal_scrollbar)
            self._scroll_update(self.virtual_size)
            layout = shown != (self.show_vertical_scrollbar, self.show_horizontal_scrollbar)
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)

    @property
    def records(self) -> tuple[LogLine, ...]:
        """Every buffered line at or above the level threshold, filtered or not."""
        return tuple(as_log_line(line) for line in self._records)

    def _matches(self, line: LogEntry) -> bool:
        return not self.needle or self.needle.casefold() in as_log_line(line).message.casefold()

    def _kept(self, line: LogEntry) -> bool:
        # A line kept as text is an access line, at INFO (see metrics.log_text).
        return (logging.INFO if isinstance(line, str) else line.level) >= self._min_level

    def add(self, lines: Iterable[LogEntry]) -> None:
        kept = [line for line in lines if self._kept(line)]
        self._records.extend(kept)
        shown = [line for line in kept if self._matches(line)] if self.needle else kept
        if not self.following:
            self.unseen += len(shown)
        elif len(shown) > self._screenful():
            # Following shows only the newest lines, and drawing one costs about 0.2 ms:
            # at thousands of requests a second, drawing every line took the supervisor
            # most of a CPU. The others are drawn if the user scrolls back.
            shown = shown[-self._screenful() :]
            self._skipped = True
        self._draw(shown)

    def _screenful(self) -> int:
        """As many lines as the view shows at once (or no limit, before it has a size)."""
        return self.size.height or len(self._records)

    def _draw(self, lines: Iterable[LogEntry]) -> None:
        # One write for many lines: much of RichLog's cost is per write (measuring,
        # trimming to max_lines, a refresh).
        texts = [format_line(as_log_line(line), self._tz) for line in lines]
        if texts:
            self.write(Text("\n", end="").join(texts), scroll_end=self.following)

    def add_batch(self, batch: LogBatch) -> None:
        """Add what a reader read, after one line that counts any lines it missed."""
        lines = batch.lines
        if batch.missed:
            marker = LogLine(
                time=as_log_line(lines[0]).time if lines else time.time(),
                level=logging.WARNING,
                logger="llm_gateway.logs",
                message=not_shown(batch.missed),
            )
            self.add([marker])
        self.add(lines)

    def redraw(self) -> None:
        self.clear()
        self._skipped = False
        self._draw(line for line in self._records if self._matches(line))

    def watch_needle(self) -> None:
        self.redraw()

    def watch_following(self, following: bool) -> None:
        if following:
            self.unseen = 0
        elif self._skipped:
            self.redraw()
        else:
            return
        self.scroll_end(animate=False, immediate=True)

    def on_resize(self, event: events.Resize) -> None:
        super().on_resize(event)
        # Lines wrap once, when drawn; and a taller view could show where lines were skipped.
        if event.size.width != self._drawn_width or self._skipped:
            self._drawn_width = event.size.width
            self.redraw()

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        self.following = False

    def navigate(self, key: ScrollKey) -> None:
        """Scroll as ``key`` says; scrolling back stops following and ``end`` resumes it."""
        if key in ("up", "pageup", "home"):
            self.following = False
        if key == "up":
            self.scroll_up(animate=False)
        elif key == "down":
            self.scroll_down(animate=False)
        elif key == "pageup":
            self.scroll_page_up(animate=False)
        elif key == "pagedown":
            self.scroll_page_down(animate=False)
        elif key == "home":
            self.scroll_home(animate=False)
        else:
            self.following = True


class FilterInput(Input):
    """Typing filters the log at once; Enter keeps the filter, Esc drops it."""

    BINDINGS = [Binding("escape", "drop", "Clear filter", show=False)]

    def action_drop(self) -> None:
        self.value = ""
        self.display = False
        self.screen.set_focus(None)


class LogPanel(Vertical):
    """The log view with its filter box and a border that says what is shown."""

    DEFAULT_CLASSES = "panel"

    def __init__(
        self,
        *,
        buffer_lines: int = DEFAULT_BUFFER_LINES,
        min_level: int = logging.INFO,
        tz: tzinfo | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self._view = LogView(buffer_lines=buffer_lines, min_level=min_level, tz=tz)

    def compose(self) -> ComposeResult:
        yield self._view
        filter_input = FilterInput(placeholder="filter the log (Enter keeps, Esc clears)")
        filter_input.display = False
        yield filter_input

    @property
    def view(self) -> LogView:
        return self._view

    def on_mount(self) -> None:
        self.watch(self.view, "following", self._describe, init=False)
        self.watch(self.view, "unseen", self._describe, init=False)
        self.watch(self.view, "needle", self._describe)

    def _describe(self) -> None:
        view = self.view
        title = Text("Log")
        if view.needle:
            title.append(" · filter: ")
            title.append_text(inert(view.needle, "bold"))
        self.border_title = title
        if view.following:
            self.border_subtitle = "following"
        else:
            self.border_subtitle = f"paused · {view.unseen} new · End to follow"

    def open_filter(self) -> None:
        filter_input = self.query_one(FilterInput)
        filter_input.display = True
        # Focus at once, not after a refresh (as ``focus()`` does), so keys typed or
        # pasted right behind the ``/`` reach the filter rather than the bindings.
        self.screen.set_focus(filter_input)

    @on(Input.Changed)
    def _filter_changed(self, event: Input.Changed) -> None:
        self.view.needle = event.value

    @on(Input.Submitted)
    def _filter_kept(self, event: Input.Submitted) -> None:
        event.input.display = bool(event.value)
        self.screen.set_focus(None)
