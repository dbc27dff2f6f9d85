"""The Clients panel: who sends what, one line per key's label.

A client is the label of the key a request came with (see :mod:`llm_gateway.auth`): a
``[[keys]]`` label, ``key-…a1b2`` for an unnamed key, ``(unauthenticated)`` for requests
refused for their key, ``(open)`` when no keys are configured. Keys themselves never reach
the dashboard: the snapshot carries labels only.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult, RenderResult
from textual.widget import Widget

from llm_gateway.dashboard import humanize
from llm_gateway.dashboard.columns import fitting, table
from llm_gateway.dashboard.inert import inert
from llm_gateway.dashboard.panels import Panel
from llm_gateway.metrics.interval import OTHER_CLIENTS
from llm_gateway.metrics.snapshot import ClientStats, Snapshot

_LABEL_CELLS = 18
"""Wide enough for ``(unauthenticated)``; longer labels end in an ellipsis."""
# Fixed widths that every humanized figure fits, so the columns never jitter or clip.
_COLUMNS = {
    "Client": _LABEL_CELLS,
    "Req": 4,
    "Err": 4,
    "In": 5,
    "Out": 5,
    "Share": 5,
    "p50": 6,
}


def cells(stats: ClientStats) -> tuple[Text, ...]:
    """One table row; the label is drawn inert, whatever it contains."""
    label = inert(stats.label)
    label.truncate(_LABEL_CELLS, overflow="ellipsis")
    figures = (
        humanize.count(stats.requests),
        humanize.count(stats.errors),
        humanize.count(stats.input_tokens),
        humanize.count(stats.output_tokens),
        humanize.percent(stats.share),
        humanize.duration(stats.p50),
    )
    error_style = "red" if stats.errors else ""
    return (
        label,
        *(
            Text(f, justify="right", style=error_style if i == 1 else "")
            for i, f in enumerate(figures)
        ),
    )


class ClientsTable(Widget):
    """Busiest client first, one line each, in fixed-width columns (see :mod:`.columns`)."""

    DEFAULT_CSS = """
    ClientsTable {
        height: 1fr;
    }
    """

    def __init__(self) -> None:
        super().__init__(id="clients-table")
        self._rows: dict[str, tuple[Text, ...]] = {}

    def row(self, label: str) -> tuple[Text, ...]:
        """The cells shown for the client ``label``."""
        return self._rows[label]

    @property
    def labels(self) -> list[str]:
        """The clients shown, in order."""
        return list(self._rows)

    def show(self, clients: Sequence[ClientStats]) -> None:
        ranked = sorted(clients, key=lambda c: (-c.requests, c.label))
        rows = {c.label: cells(c) for c in ranked}
        if list(rows.items()) != list(self._rows.items()):
            self._rows = rows
            self.refresh()

    def render(self) -> RenderResult:
        shown, more = fitting(tuple(self._rows.values()), self.size.height)
        return table(_HEADINGS, shown, _WIDTHS, more)


_HEADINGS = tuple(
    Text(label, justify="left" if label == "Client" else "right") for label in _COLUMNS
)
_WIDTHS = tuple(_COLUMNS.values())


class ClientsPanel(Panel):
    """Per client since start: requests, errors, tokens in and out, share, median latency."""

    TITLE = "Clients"

    def compose(self) -> ComposeResult:
        yield ClientsTable()

    def show(self, snapshot: Snapshot) -> None:
        clients = snapshot.clients
        self.query_one(ClientsTable).show(clients)
        if any(c.label == OTHER_CLIENTS for c in clients):
            # Say it, so a person reading the table knows why labels are missing from it.
            self.caption(f"{len(clients)} rows · cap reached: new labels in {OTHER_CLIENTS}")
        else:
            self.caption(f"{len(clients)} clients" if clients else "no requests yet")
