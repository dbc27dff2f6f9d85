"""The In flight panel: every request not yet finished, oldest first, redrawn every frame.

One line per request: how long it has run, the API it came in on (``chat``, ``messages``,
``responses``), its model, its client's label, the upstream it is on, its state and its
output so far. ``waiting`` is a request still waiting for its upstream's answer to begin
(including for a free upstream connection, see ``max_upstream_connections``);
``streaming`` one whose answer flows; ``receiving`` one whose whole (non-streamed) answer
is being read, to go to its client in one piece. The output is an estimate while it
streams, one token per content event relayed (``~``); the upstream's own count comes with
its last event. A whole answer has no output to show until it is read (``-``).

A stuck request is the one at the top whose age keeps growing, and a slow stream one
whose output grows slowly. When more are open than the panel has lines for (or than the
workers list, :data:`~llm_gateway.metrics.inflight.MAX_LISTED`), its last line says how
many are not shown.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult, RenderResult
from textual.widget import Widget

from llm_gateway.apis import Api
from llm_gateway.dashboard import humanize
from llm_gateway.dashboard.columns import fitting, table
from llm_gateway.dashboard.inert import inert
from llm_gateway.dashboard.panels import Panel
from llm_gateway.metrics.snapshot import InFlightRequest, Snapshot

API_NAMES: dict[Api, str] = {"openai": "chat", "anthropic": "messages", "responses": "responses"}
"""Each API as the panel names it: by its endpoint, as a person reads it in a client."""

_COLUMNS = {
    "Age": 6,
    "API": 9,
    "Model": 18,
    "Client": 12,
    "Upstream": 12,
    "State": 9,
    "Out": 6,
}
_RIGHT = {"Age", "Out"}
_HEADINGS = tuple(Text(h, justify="right" if h in _RIGHT else "left") for h in _COLUMNS)
_WIDTHS = tuple(_COLUMNS.values())


def age(seconds: float) -> str:
    """How long a request has run: ``250 ms``, ``12.3 s``, ``4m05s``, ``2h10m``."""
    return humanize.duration(seconds) if seconds < 3600 else humanize.uptime(seconds)


def cells(request: InFlightRequest) -> tuple[Text, ...]:
    """One table row; what came from clients (the model name) is drawn inert."""
    waiting = request.state == "waiting"
    streaming = request.state == "streaming"
    return (
        Text(age(request.age_s), justify="right"),
        Text(API_NAMES[request.api]),
        inert(request.model),
        inert(request.client),
        Text(request.upstream or humanize.MISSING),
        Text(request.state, style="yellow" if waiting else "green"),
        Text(
            "~" + humanize.count(request.output_tokens) if streaming else humanize.MISSING,
            justify="right",
        ),
    )


class InFlightTable(Widget):
    """The requests as lines of fixed-width columns (see :mod:`.columns`), as many as fit."""

    DEFAULT_CSS = """
    InFlightTable {
        height: 1fr;
    }
    """

    def __init__(self) -> None:
        super().__init__(id="in-flight-table")
        self._requests: tuple[InFlightRequest, ...] = ()
        self._total = 0

    def show(self, requests: Sequence[InFlightRequest], total: int) -> None:
        """``requests`` oldest first, of ``total`` open (the rest were not listed)."""
        requests = tuple(requests)
        if (requests, total) != (self._requests, self._total):
            self._requests = requests
            self._total = total
            self.refresh()

    def render(self) -> RenderResult:
        shown, more = fitting(self._requests, self.size.height, self._total)
        out = table(_HEADINGS, [cells(request) for request in shown], _WIDTHS, more)
        if not shown and not more:
            out.append("\nnothing in flight", style="dim")
        return out


class InFlightPanel(Panel):
    """The requests in flight now, oldest first (see the module docstring)."""

    TITLE = "In flight"

    def compose(self) -> ComposeResult:
        yield InFlightTable()

    def show(self, snapshot: Snapshot) -> None:
        total = snapshot.active_connections
        self.query_one(InFlightTable).show(snapshot.in_flight, total)
        self.caption(f"{humanize.count(total)} open" if total else "none")
