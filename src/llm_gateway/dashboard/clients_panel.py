"""The Clients panel: who sends what, one line per key's label.

A client is the label of the key a request came with (see :mod:`llm_gateway.auth`): a
``[[keys]]`` label, ``key-…a1b2`` for an unnamed key, ``(unauthenticated)`` for requests
refused for their key, ``(open)`` when no keys are configured. Keys themselves never reach
the dashboard: the snapshot carries labels only.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult

from llm_gateway.dashboard import humanize
from llm_gateway.dashboard.columns import RankedTable
from llm_gateway.dashboard.inert import inert
from llm_gateway.dashboard.panels import Panel
from llm_gateway.metrics.interval import OTHER_CLIENTS
from llm_gateway.metrics.snapshot import ClientStats, Snapshot

_LABEL_CELLS = 18
"""Wide enough for ``(unauthenticated)``; longer labels end in an ellipsis."""


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


class ClientsTable(RankedTable):
    """Busiest client first, one line each."""

    COLUMNS = {
        "Client": _LABEL_CELLS,
        "Req": 4,
        "Err": 4,
        "In": 5,
        "Out": 5,
        "Share": 5,
        "p50": 6,
    }

    def __init__(self) -> None:
        super().__init__(id="clients-table")

    def show(self, clients: Sequence[ClientStats]) -> None:
        self.show_rows({c.label: cells(c) for c in clients})


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
