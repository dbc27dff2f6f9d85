"""The Upstreams panel: every pool's upstreams, how each fares, and Kiro accounts' credits.

One line per upstream, in config order: the model it serves, its label and provider, its
state (``ok``, ``cooling 23s``, ``quota until Dec 1``, ``auth failed``), then its
*attempts* (a request that failed over counts on each upstream it tried), errors, median
latency and attempts in flight, and for a Kiro account its credits (``250.5/1,000 · Dec
1``: used of the limit, and the day they reset; ``unknown`` when the last read failed).

Rests belong to each worker process: a state marked ``*`` holds in some workers only,
which the caption says.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from datetime import datetime, tzinfo

from rich.text import Text
from textual.app import ComposeResult, RenderResult
from textual.widget import Widget

from llm_gateway.dashboard import humanize
from llm_gateway.dashboard.columns import fitting, table
from llm_gateway.dashboard.inert import inert
from llm_gateway.dashboard.panels import Panel
from llm_gateway.metrics.snapshot import Credits, Snapshot, UpstreamStats

_COLUMNS = {
    "Model": 16,
    "Upstream": 14,
    "Provider": 9,
    "State": 18,
    "Req": 5,
    "Err": 4,
    "p50": 6,
    "Fly": 3,
    "Credits": 20,
}
_LEFT = {"Model", "Upstream", "Provider", "State", "Credits"}
_HEADINGS = tuple(Text(h, justify="left" if h in _LEFT else "right") for h in _COLUMNS)
_WIDTHS = tuple(_COLUMNS.values())
_REST_STYLES = {"cooling": "yellow", "quota": "red", "auth": "red"}


def rest_for(seconds: float) -> str:
    """A rest's remaining time, whole seconds up: ``23s``, ``4m05s``, ``1h02m``."""
    left = math.ceil(seconds)
    if left < 60:
        return f"{left}s"
    minutes, secs = divmod(left, 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def day(epoch: float, tz: tzinfo | None) -> str:
    """``Dec 1``."""
    moment = datetime.fromtimestamp(epoch, tz)
    return f"{moment:%b} {moment.day}"


def state(stats: UpstreamStats, now: float, tz: tzinfo | None) -> Text:
    """Whether the upstream serves, and if not why and until when."""
    if not stats.rest:
        return Text("ok", style="green")
    if stats.rest == "cooling":
        shown = f"cooling {rest_for(stats.rest_s)}"
    elif stats.rest == "quota":
        credits = stats.credits
        resets_at = credits.resets_at if credits is not None else None
        shown = f"quota until {day(resets_at or now + stats.rest_s, tz)}"
    else:
        shown = "auth failed"
    if stats.resting_in < stats.workers:
        shown += "*"
    return Text(shown, style=_REST_STYLES.get(stats.rest, ""))


def credits_text(stats: UpstreamStats, tz: tzinfo | None) -> Text:
    """``250.5/1,000 · Dec 1``; ``unknown`` when unread or the read failed; blank if none."""
    if not stats.reads_credits:
        return Text("")
    credits: Credits | None = stats.credits
    if credits is None:
        return Text("unknown", style="dim")
    shown = f"{_amount(credits.used)}/{_amount(credits.limit)}"
    if credits.resets_at is not None:
        shown += f" · {day(credits.resets_at, tz)}"
    spent = credits.limit > 0 and credits.used >= credits.limit
    return Text(shown, style="red" if spent else "")


def _amount(value: float) -> str:
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def cells(stats: UpstreamStats, now: float, tz: tzinfo | None) -> tuple[Text, ...]:
    """One row. The model and label come from the config, drawn inert all the same."""
    figures = (
        humanize.count(stats.attempts),
        humanize.count(stats.errors),
        humanize.duration(stats.p50_s),
        humanize.count(stats.in_flight),
    )
    error_style = "red" if stats.errors else ""
    return (
        inert(stats.model),
        inert(stats.label),
        Text(stats.provider),
        state(stats, now, tz),
        *(
            Text(f, justify="right", style=error_style if i == 1 else "")
            for i, f in enumerate(figures)
        ),
        credits_text(stats, tz),
    )


class UpstreamsTable(Widget):
    """The upstreams, one line each, in fixed-width columns (see :mod:`.columns`)."""

    DEFAULT_CSS = """
    UpstreamsTable {
        height: 1fr;
    }
    """

    def __init__(self, tz: tzinfo | None = None) -> None:
        super().__init__(id="upstreams-table")
        self._tz = tz
        self._rows: list[tuple[Text, ...]] = []

    @property
    def rows(self) -> list[tuple[Text, ...]]:
        """The cells shown, one tuple per upstream."""
        return self._rows

    def show(self, upstreams: Sequence[UpstreamStats], now: float) -> None:
        rows = [cells(u, now, self._tz) for u in upstreams]
        if rows != self._rows:
            self._rows = rows
            self.refresh()

    def render(self) -> RenderResult:
        shown, more = fitting(self._rows, self.size.height)
        return table(_HEADINGS, shown, _WIDTHS, more)


class UpstreamsPanel(Panel):
    """Every upstream's attempts and state; ``tz`` and ``wall`` place the dates shown."""

    TITLE = "Upstreams"

    def __init__(
        self,
        *,
        tz: tzinfo | None = None,
        wall: Callable[[], float] = time.time,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self._tz = tz
        self._wall = wall

    def compose(self) -> ComposeResult:
        yield UpstreamsTable(self._tz)

    def show(self, snapshot: Snapshot) -> None:
        upstreams = snapshot.upstreams
        self.query_one(UpstreamsTable).show(upstreams, self._wall())
        partial = any(u.rest and u.resting_in < u.workers for u in upstreams)
        attempts = sum(u.attempts for u in upstreams)
        caption = f"{humanize.count(attempts)} attempts"
        if partial:
            caption += " · * resting in some workers only"
        self.caption(caption)
