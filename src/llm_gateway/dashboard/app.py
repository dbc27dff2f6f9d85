"""The dashboard: a Textual app that redraws a :class:`DashboardFeed` four times a second.

The app runs in the supervisor process, on its event loop, and only reads the feed: the
figures come aggregated in a :class:`Snapshot`, the log lines as they arrived. It ends
with ``"quit"`` (q, Esc, Ctrl+C) or ``"hide"`` (d, back to plain log lines); the
console decides what happens next.

Under the charts, a :class:`~.switcher.PanelSwitcher` shows one of the tables that take
turns (models, upstreams, ...; ``Tab`` and Shift+Tab cycle), and the log fills the rest.

The layout follows the terminal: *wide* (about 200x60) shows two of those tables side by
side above a full-width log, *medium* (about 120x40) stacks everything with room for
charts, *narrow* squeezes every panel into 80x24, and anything smaller shows what size
is needed.
"""

from __future__ import annotations

from datetime import tzinfo
from typing import Literal

from rich.text import Text
from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.widgets import Footer, Static

from llm_gateway.dashboard.chart import WINDOWS_S, BandChart
from llm_gateway.dashboard.clients_panel import ClientsPanel
from llm_gateway.dashboard.feed import DashboardFeed
from llm_gateway.dashboard.help import HelpScreen
from llm_gateway.dashboard.inflight_panel import InFlightPanel
from llm_gateway.dashboard.log_panel import (
    DEFAULT_BUFFER_LINES,
    FilterInput,
    LogPanel,
    ScrollKey,
)
from llm_gateway.dashboard.models_table import ModelsPanel
from llm_gateway.dashboard.panels import (
    ChartPanel,
    ConnectionsPanel,
    ErrorsPanel,
    HeaderBar,
    LatencyPanel,
    Panel,
    RequestsPanel,
    ResourcesPanel,
    TokensPanel,
)
from llm_gateway.dashboard.switcher import PanelSwitcher
from llm_gateway.dashboard.upstreams_panel import UpstreamsPanel

Outcome = Literal["quit", "hide"]
LayoutName = Literal["wide", "medium", "narrow", "too-small"]

REFRESH_S = 0.25
MIN_SIZE = (80, 24)
_MEDIUM_FROM = (110, 32)
_WIDE_FROM = (160, 45)
_PAIR_FROM_WIDTH = 190
"""Two panels side by side from this width on (in the wide layout): the two widest tables
fit whole, upstreams (103 cells) and in flight (78), each with its padding and border."""


def switchable_panels(tz: tzinfo | None) -> list[Panel]:
    """The panels ``Tab`` cycles through in the lower-left slot, in order.

    Adding a panel to the cycle is adding it here.
    """
    return [
        ModelsPanel(id="models"),
        InFlightPanel(id="in-flight"),
        ClientsPanel(id="clients"),
        UpstreamsPanel(tz=tz, id="upstreams"),
    ]


def layout_for(width: int, height: int) -> LayoutName:
    """The layout a terminal of ``width`` x ``height`` cells gets."""
    if width >= _WIDE_FROM[0] and height >= _WIDE_FROM[1]:
        return "wide"
    if width >= _MEDIUM_FROM[0] and height >= _MEDIUM_FROM[1]:
        return "medium"
    if width >= MIN_SIZE[0] and height >= MIN_SIZE[1]:
        return "narrow"
    return "too-small"


def panels_side_by_side(width: int, height: int) -> int:
    """How many of the switching panels a terminal of ``width`` x ``height`` shows at once."""
    return 2 if layout_for(width, height) == "wide" and width >= _PAIR_FROM_WIDTH else 1


class DashboardApp(App[Outcome]):
    """The live view of the gateway; see the module docstring for what it shows."""

    TITLE = "llm-gateway"
    # Nothing takes focus until ``/`` opens the filter, so every key reaches the bindings.
    AUTO_FOCUS = None
    ENABLE_COMMAND_PALETTE = False

    CSS = """
    Screen {
        layout: vertical;
    }
    .panel {
        border: round $primary;
        border-title-color: $accent;
        border-title-style: bold;
        border-subtitle-color: $foreground-muted;
        padding: 0 1;
        width: 1fr;
        height: 1fr;
    }
    #body { height: 1fr; }
    #top { height: 14; }
    #middle { height: 9; }
    #switcher { height: 14; }
    /* The upstreams table's 103 cells, its padding and border: the panel beside it
       gets the rest (see _PAIR_FROM_WIDTH). */
    .-wide #upstreams { min-width: 107; }
    #errors { width: 36; }
    #tokens { width: 28; }
    #requests-chart > .band-chart--band-0 { color: $error; }
    #requests-chart > .band-chart--band-1 { color: $accent; }
    #connections-chart > .band-chart--band-0 { color: $secondary; }
    #models-table { height: 1fr; background: transparent; }
    #log-view { background: transparent; scrollbar-size-vertical: 0; }
    #log FilterInput { dock: bottom; height: 1; border: none; padding: 0; }
    #too-small {
        display: none;
        height: 1fr;
        content-align: center middle;
        text-align: center;
    }

    .-medium #top { height: 10; }
    .-medium #middle { height: 8; }
    .-medium #switcher { height: 9; }

    .-narrow .panel {
        border: none;
        border-top: solid $primary;
        padding: 0 1 0 0;
    }
    .-narrow #top { height: 5; }
    .-narrow #middle { height: 7; }
    .-narrow #switcher { height: 5; }
    .-narrow #errors { width: 33; }
    .-narrow #tokens { width: 23; }

    .-too-small #body { display: none; }
    .-too-small #too-small { display: block; }
    """

    BINDINGS = [
        # Each of q, Esc and Ctrl+C has two bindings; ``check_action`` keeps the one that
        # fits: quit the gateway from its own console, detach from ``top``.
        Binding("q", "quit", "Quit"),
        Binding("escape", "quit", "Quit", show=False),
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
        Binding("q", "detach", "Detach"),
        Binding("escape", "detach", "Detach", show=False),
        Binding("ctrl+c", "detach", "Detach", show=False, priority=True),
        Binding("d", "hide", "Plain logs"),
        # A priority binding runs as the key arrives, before the keys queued behind it
        # are routed, so a fast "/quad" puts "quad" in the filter, not to q and d.
        Binding("slash", "filter", "Filter", priority=True),
        Binding("question_mark", "help", "Keys"),
        Binding("w", "chart_window", "Window"),
        # Priority, so the screen's focus cycling never gets these keys; while the filter
        # has focus, ``check_action`` lets them through to it.
        Binding("tab", "switch_panel(1)", "Panels", key_display="tab/⇧tab", priority=True),
        Binding("shift+tab", "switch_panel(-1)", show=False, priority=True),
        Binding("end", "log('end')", "Follow"),
        Binding("up", "log('up')", show=False),
        Binding("down", "log('down')", show=False),
        Binding("pageup", "log('pageup')", show=False),
        Binding("pagedown", "log('pagedown')", show=False),
        Binding("home", "log('home')", show=False),
    ]

    layout_name: reactive[LayoutName] = reactive[LayoutName]("narrow")

    def __init__(
        self,
        feed: DashboardFeed,
        *,
        refresh_s: float = REFRESH_S,
        log_buffer_lines: int = DEFAULT_BUFFER_LINES,
        tz: tzinfo | None = None,
        owns_gateway: bool = True,
    ) -> None:
        """``tz`` is the zone log times and dates are shown in (local time when ``None``).

        ``owns_gateway``: this is the gateway's own console, whose ``q`` stops it and
        whose ``d`` shows plain log lines; ``llm-gateway top`` is only a viewer.
        """
        super().__init__()
        self._feed = feed
        self._owns_gateway = owns_gateway
        self._refresh_s = refresh_s
        self._log_reader = feed.log_reader(back=log_buffer_lines)
        self._log_panel = LogPanel(
            buffer_lines=log_buffer_lines, min_level=feed.log_level, tz=tz, id="log"
        )
        self._header = HeaderBar(feed.version, feed.listen_url)
        self._switcher = PanelSwitcher(switchable_panels(tz), id="switcher")
        self._panels: list[Panel] = []

    def compose(self) -> ComposeResult:
        yield self._header
        with Vertical(id="body"):
            with Horizontal(id="top"):
                yield RequestsPanel(id="requests")
                yield LatencyPanel(id="latency")
                yield ConnectionsPanel(id="connections")
            with Horizontal(id="middle"):
                yield ErrorsPanel(id="errors")
                yield TokensPanel(id="tokens")
                yield ResourcesPanel(id="resources")
            yield self._switcher
            yield self._log_panel
        yield Static(id="too-small")
        yield Footer()

    def on_mount(self) -> None:
        self._panels = list(self.query(Panel))
        self.layout_name = layout_for(*self.size)
        self._switcher.side_by_side = panels_side_by_side(*self.size)
        self.refresh_figures()
        self.set_interval(self._refresh_s, self.refresh_figures)

    def on_resize(self, event: events.Resize) -> None:
        self.layout_name = layout_for(*event.size)
        self._switcher.side_by_side = panels_side_by_side(*event.size)
        if self.layout_name == "too-small":
            width, height = event.size
            need_w, need_h = MIN_SIZE
            self.query_one("#too-small", Static).update(
                Text(
                    f"Terminal too small: {width}x{height}.\n"
                    f"The dashboard needs at least {need_w}x{need_h}.\n\n"
                    "d: plain log lines    q: quit"
                )
            )

    def watch_layout_name(self, old: LayoutName, new: LayoutName) -> None:
        self.screen.remove_class(f"-{old}")
        self.screen.add_class(f"-{new}")
        for chart_panel in self.query(ChartPanel):
            chart_panel.span_in_title = new == "narrow"

    def refresh_figures(self) -> None:
        """Pull the latest snapshot and log lines from the feed and draw them."""
        snapshot = self._feed.snapshot()
        self._header.show(snapshot)
        for panel in self._panels:
            panel.show(snapshot)
        self._log_panel.view.add_batch(self._log_reader.read())

    async def action_quit(self) -> None:
        self.exit("quit")

    def action_hide(self) -> None:
        self.exit("hide")

    def action_detach(self) -> None:
        self.exit("quit")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("quit", "hide"):
            return self._owns_gateway
        if action == "detach":
            return not self._owns_gateway
        filtering = isinstance(self.focused, FilterInput)
        if action == "switch_panel":
            # Not behind the help box; and while the filter has focus, Tab is the filter's.
            return not (filtering or isinstance(self.screen, HelpScreen))
        # While the filter has focus, "/" is a character to type into it.
        return not (action == "filter" and filtering)

    def action_filter(self) -> None:
        self._log_panel.open_filter()

    def action_chart_window(self) -> None:
        """Show the next chart window (15 min, 1 min, 5 min, ...) on every chart."""
        for chart in self.query(BandChart):
            chart.window_s = WINDOWS_S[(WINDOWS_S.index(chart.window_s) + 1) % len(WINDOWS_S)]
        self.refresh_figures()

    def action_switch_panel(self, by: int) -> None:
        """Bring up the next (``by=1``) or previous (``-1``) panel of the lower-left slot."""
        self._switcher.step(by)

    def action_help(self) -> None:
        self.push_screen(HelpScreen(owns_gateway=self._owns_gateway, panels=self._switcher.names))

    def action_log(self, key: ScrollKey) -> None:
        self._log_panel.view.navigate(key)
