"""The ``?`` screen: every key the dashboard understands."""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

CONSOLE_KEYS = (
    ("q, Esc, Ctrl+C", "quit: the gateway shuts down gracefully"),
    ("d", "hide the dashboard and show plain log lines (d again brings it back)"),
)
VIEWER_KEYS = (("q, Esc, Ctrl+C", "detach: the gateway keeps running"),)
"""``llm-gateway top``: leaving only detaches, and plain log lines are the gateway's own."""
VIEW_KEYS = (
    ("Up, Down", "scroll the log a line"),
    ("PgUp, PgDn", "scroll the log a page"),
    ("Home", "go to the oldest log line (stops following)"),
    ("End", "go to the newest log line and follow new ones"),
    ("/", "filter the log by text (Enter keeps it, Esc clears it)"),
    ("w", "chart window: 15, 1 or 5 minutes (15 minutes of history are always kept)"),
    ("?", "show or hide this help"),
)


def panel_keys(panels: Sequence[str]) -> tuple[str, str]:
    """The line for ``Tab``, naming the ``panels`` it cycles through."""
    return (
        "Tab, Shift+Tab",
        f"next or previous lower panel: {', '.join(panels)} (two side by side when wide)",
    )


def keys_table(owns_gateway: bool, panels: Sequence[str]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    keys = (
        *(CONSOLE_KEYS if owns_gateway else VIEWER_KEYS),
        panel_keys(panels),
        *VIEW_KEYS,
    )
    for key, meaning in keys:
        table.add_row(key, meaning)
    return table


class HelpScreen(ModalScreen[None]):
    """A box over the dashboard listing the keys; Esc or ``?`` closes it."""

    BINDINGS = [
        Binding("escape", "dismiss", "Close", show=False),
        Binding("question_mark", "dismiss", "Close", show=False),
    ]

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
    }
    HelpScreen > Vertical {
        width: 78;
        max-width: 100%;
        height: auto;
        border: round $accent;
        border-title-style: bold;
        background: $surface;
        padding: 0 1;
    }
    """

    def __init__(self, *, owns_gateway: bool, panels: Sequence[str]) -> None:
        """``panels``: the names ``Tab`` cycles through, in order."""
        super().__init__()
        self._owns_gateway = owns_gateway
        self._panels = panels

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Keys"
            box.border_subtitle = "Esc or ? to close"
            yield Static(keys_table(self._owns_gateway, self._panels))
