"""The In flight panel over requests listed by the real bookkeeping.

Requests are real :class:`Exchange` objects open in two workers' :class:`IntervalRecorder`,
merged by the supervisor's :class:`Aggregator`, as in the gateway; the panel is brought up
with Tab in the real dashboard, as a person would.
"""

from __future__ import annotations

from datetime import UTC

from llm_gateway.apis import Api
from llm_gateway.dashboard import humanize
from llm_gateway.dashboard.app import DashboardApp
from llm_gateway.dashboard.inflight_panel import InFlightPanel, InFlightTable, age
from llm_gateway.dashboard.switcher import PanelSwitcher
from llm_gateway.frontends.exchange import Exchange
from llm_gateway.metrics.aggregator import Aggregator
from llm_gateway.metrics.inflight import MAX_LISTED
from llm_gateway.metrics.interval import IntervalRecorder
from llm_gateway.metrics.snapshot import InFlightRequest, Snapshot
from tests.dashboard.fakes import HOSTILE_MODEL, FakeFeed

NONE = humanize.MISSING


class Clock:
    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


def arrive(recorder: IntervalRecorder, clock: Clock, model: str, client: str, api: Api) -> Exchange:
    """A request as the endpoint makes it: its key checked and its model read."""
    exchange = Exchange(recorder, clock, "POST", "/v1/messages", api)
    exchange.client = client
    exchange.model = model
    return exchange


async def shown(snapshot: Snapshot, size: tuple[int, int] = (120, 40)) -> tuple[list[str], str]:
    """The panel's lines under its headings (as text, spaces squeezed) and its caption."""
    app = DashboardApp(FakeFeed(snapshot_value=snapshot), tz=UTC, refresh_s=3600)
    async with app.run_test(size=size) as pilot:
        switcher = app.query_one(PanelSwitcher)
        await pilot.press(*["tab"] * switcher.names.index("In flight"))
        app.refresh_figures()
        await pilot.pause()
        panel = app.query_one(InFlightPanel)
        assert panel.display
        table = app.query_one(InFlightTable)
        text = table.render()
        assert not isinstance(text, str)
        heading, *lines = str(text.plain).splitlines()  # type: ignore[union-attr]
        assert heading.split() == ["Age", "API", "Model", "Client", "Upstream", "State", "Out"]
        return [" ".join(line.split()) for line in lines], str(panel.border_subtitle)


async def test_open_requests_show_oldest_first_with_state_and_output_so_far() -> None:
    clock = Clock()
    aggregator = Aggregator(clock=clock)
    first, second = IntervalRecorder(clock=clock), IntervalRecorder(clock=clock)
    streaming = arrive(first, clock, "claude", "alice", "anthropic")
    streaming.state = "streaming"
    streaming.deltas = 1_234
    clock.now += 20
    arrive(second, clock, "gpt-4o", "bob", "responses")
    clock.now += 1
    whole = arrive(second, clock, "gpt-4o-mini", "carol", "openai")
    whole.state = "receiving"
    clock.now += 4
    finished = arrive(first, clock, "gpt-4o", "bob", "openai")
    clock.now += 2.5
    finished.finish(200)
    for worker, recorder in ((1, first), (2, second)):
        aggregator.worker_joined(worker)
        aggregator.merge(worker, recorder.take())

    lines, caption = await shown(aggregator.snapshot())

    assert lines == [
        f"27.5 s messages claude alice {NONE} streaming ~1.2k",
        f"7.50 s responses gpt-4o bob {NONE} waiting {NONE}",
        f"6.50 s chat gpt-4o-mini carol {NONE} receiving {NONE}",
    ]
    assert caption == "3 open"


async def test_what_does_not_fit_is_counted_on_the_last_line() -> None:
    requests = tuple(
        InFlightRequest(100.0 - n, "openai", f"m{n}", "c", "u", "streaming", n)
        for n in range(MAX_LISTED)
    )
    # Workers listed their oldest 100 of the 250 open.
    snapshot = Snapshot(active_connections=250, in_flight=requests)

    lines, caption = await shown(snapshot, size=(80, 24))

    *rows, more = lines
    assert rows and all(row.split()[2] == f"m{n}" for n, row in enumerate(rows))
    assert more == f"+{250 - len(rows)} more"
    assert caption == "250 open"


async def test_a_hostile_model_name_is_drawn_inert_and_nothing_open_says_so() -> None:
    hostile = InFlightRequest(1.0, "openai", HOSTILE_MODEL, "c", "", "waiting", 0)
    lines, _ = await shown(Snapshot(active_connections=1, in_flight=(hostile,)))
    assert lines == [f"1.00 s chat [b]m[/b]\\x1b[2J\\x… c {NONE} waiting {NONE}"]

    assert await shown(Snapshot()) == (["nothing in flight"], "none")


def test_ages_read_as_durations_then_hours() -> None:
    assert [age(s) for s in (0.008, 0.25, 12.34, 245.0, 7_800.0)] == [
        "8.0 ms",
        "250 ms",
        "12.3 s",
        "4m05s",
        "2h10m",
    ]
