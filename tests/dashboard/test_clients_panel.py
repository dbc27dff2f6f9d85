"""The Clients panel over figures counted by the real request bookkeeping.

Requests go through real :class:`Exchange` objects into two workers'
:class:`IntervalRecorder`, then the supervisor's :class:`Aggregator`, as in the gateway:
the panel must show each client's requests exactly, busiest first.
"""

from __future__ import annotations

from datetime import UTC

from llm_gateway.dashboard import humanize
from llm_gateway.dashboard.app import DashboardApp
from llm_gateway.dashboard.clients_panel import ClientsPanel, ClientsTable
from llm_gateway.dashboard.switcher import PanelSwitcher
from llm_gateway.errors import GatewayError
from llm_gateway.frontends.exchange import Exchange
from llm_gateway.metrics.aggregator import Aggregator
from llm_gateway.metrics.interval import OTHER_CLIENTS, IntervalRecorder
from llm_gateway.metrics.snapshot import ClientStats, Snapshot
from tests.dashboard.fakes import FakeFeed


class Clock:
    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


def serve(recorder: IntervalRecorder, clock: Clock, client: str, *, refused: bool = False) -> None:
    """One request as the endpoint makes it: its key's label set, or refused for its key."""
    exchange = Exchange(recorder, clock, "POST", "/v1/messages", "anthropic")
    if refused:
        exchange.error = GatewayError("auth", 401, "Invalid API key")
        exchange.finish(401)
        return
    exchange.client = client
    exchange.model = "claude"
    exchange.set_usage(10, 20)
    clock.now += 0.25
    exchange.finish(200)


async def shown(snapshot: Snapshot) -> tuple[list[list[str]], str]:
    """The panel's rows (as text) and caption, brought up with Tab as a person would."""
    app = DashboardApp(FakeFeed(snapshot_value=snapshot), tz=UTC, refresh_s=3600)
    async with app.run_test(size=(120, 40)) as pilot:
        switcher = app.query_one(PanelSwitcher)
        await pilot.press(*["tab"] * switcher.names.index("Clients"))
        app.refresh_figures()
        await pilot.pause()
        panel = app.query_one(ClientsPanel)
        assert panel.display
        table = app.query_one(ClientsTable)
        rows = [[cell.plain for cell in table.row(label)] for label in table.names]
        return rows, str(panel.border_subtitle)


async def test_each_client_shows_what_it_sent_busiest_first() -> None:
    clock = Clock()
    aggregator = Aggregator(clock=clock)
    sent = {"alice": 3, "bob": 5, "key-…a1b2": 1}
    for worker in (1, 2):
        recorder = IntervalRecorder(clock=clock)
        for client, count in sent.items():
            for _ in range(count):
                serve(recorder, clock, client)
        serve(recorder, clock, "", refused=True)
        aggregator.worker_joined(worker)
        aggregator.merge(worker, recorder.take())

    rows, caption = await shown(aggregator.snapshot())

    # 249 ms: a median read from the histogram is within 1% of the 250 ms each took.
    assert rows == [
        ["bob", "10", "0", "100", "200", "50%", "249 ms"],
        ["alice", "6", "0", "60", "120", "30%", "249 ms"],
        ["(unauthenticated)", "2", "2", "0", "0", "10%", "0.0 ms"],
        ["key-…a1b2", "2", "0", "20", "40", "10%", "249 ms"],
    ]
    assert caption == "4 clients"


async def test_a_long_label_is_cut_and_the_cap_is_said() -> None:
    clients = (
        ClientStats("a-label-far-too-long-for-the-column", 9, 0, 1, 1, 0.9, 0.1),
        ClientStats(OTHER_CLIENTS, 1, 0, 0, 0, 0.1, None),
    )

    rows, caption = await shown(Snapshot(clients=clients))

    assert rows[0][0] == "a-label-far-too-l…"
    assert rows[1][-1] == humanize.MISSING
    assert caption == f"2 rows · cap reached: new labels in {OTHER_CLIENTS}"


async def test_no_requests_yet() -> None:
    rows, caption = await shown(Snapshot())
    assert (rows, caption) == ([], "no requests yet")
