"""The dashboard's panels: each a titled box that draws one part of a :class:`Snapshot`.

A panel only formats; the figures are already aggregated by the supervisor. Every panel
has ``show(snapshot)``, called four times a second, which hands its text to a
:class:`~.readout.Readout` and its history to a :class:`~.chart.BandChart`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult, RenderResult
from textual.containers import Vertical
from textual.widget import Widget

from llm_gateway.dashboard import humanize
from llm_gateway.dashboard.chart import BandChart
from llm_gateway.dashboard.gauges import Gauges, Reading
from llm_gateway.dashboard.inert import inert
from llm_gateway.dashboard.readout import Line, Readout
from llm_gateway.errors import ERROR_TYPES
from llm_gateway.metrics.snapshot import Series, Snapshot


class Panel(Vertical):
    """A bordered, titled box; subclasses compose its content and fill it in ``show``."""

    DEFAULT_CLASSES = "panel"
    TITLE: ClassVar[str] = ""

    _caption = ""
    _title = ""

    def on_mount(self) -> None:
        self.title(self.TITLE)

    def title(self, markup: str) -> None:
        """Put ``markup`` in the top border; like :meth:`caption`, only when it changes."""
        if markup != self._title:
            self._title = markup
            self.border_title = markup

    def caption(self, text: str) -> None:
        """Put ``text`` in the bottom border.

        Setting a border title repaints the whole panel, chart and all, so it is only
        done when the text changes.
        """
        if text != self._caption:
            self._caption = text
            self.border_subtitle = text

    def show(self, snapshot: Snapshot) -> None:
        raise NotImplementedError


def _span(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 60 else f"{seconds:.0f} s"


def _span_note(chart: BandChart) -> str:
    """``42 s of 5 min``, or ``5 min`` once the chart spans its whole window."""
    window = _span(chart.window_s)
    return window if chart.span_s >= chart.window_s else f"{_span(chart.span_s)} of {window}"


def _history_note(chart: BandChart, unit: Callable[[float], str]) -> str:
    """``42 s of 5 min · peak 12/s``: what the chart spans, of its window, and its top."""
    span = _span_note(chart)
    scale = chart.scale
    if scale.top <= 0:
        return span
    return f"{span} · peak {unit(scale.top)}" + (" · log" if scale.log else "")


class ChartPanel(Panel):
    """Figures on top, a chart below, its span and peak in the bottom border."""

    CHART_ID: ClassVar[str] = ""

    span_in_title = False
    """Set where no bottom border is drawn (the narrow layout): the title says the span."""

    def compose(self) -> ComposeResult:
        yield Readout()
        yield BandChart(id=self.CHART_ID)

    def figures(self, snapshot: Snapshot) -> Sequence[Line]:
        raise NotImplementedError

    def history(self, series: Series) -> tuple[tuple[float | None, ...], ...]:
        raise NotImplementedError

    def unit(self, value: float) -> str:
        raise NotImplementedError

    def show(self, snapshot: Snapshot) -> None:
        self.query_one(Readout).show(self.figures(snapshot))
        chart = self.query_one(BandChart)
        chart.step_s = snapshot.series.step_s
        chart.bands = self.history(snapshot.series)
        self.caption(_history_note(chart, self.unit))
        self.title(
            f"{self.TITLE} [dim]{_span_note(chart)}[/dim]" if self.span_in_title else self.TITLE
        )


class RequestsPanel(ChartPanel):
    TITLE = "Requests"
    CHART_ID = "requests-chart"

    def figures(self, snapshot: Snapshot) -> Sequence[Line]:
        return [
            [
                Text(f"{humanize.rate(snapshot.request_rate)} req/s", style="bold"),
                Text(f"total {humanize.count(snapshot.requests_total)}"),
                Text(
                    f"errors {humanize.count(snapshot.errors_total)}",
                    style="red" if snapshot.errors_total else "",
                ),
            ]
        ]

    def history(self, series: Series) -> tuple[tuple[float | None, ...], ...]:
        return (series.errors_per_s, series.requests_per_s)

    def unit(self, value: float) -> str:
        return f"{humanize.rate(value)}/s"


class LatencyPanel(ChartPanel):
    TITLE = "Latency"
    CHART_ID = "latency-chart"

    def figures(self, snapshot: Snapshot) -> Sequence[Line]:
        latency = snapshot.latency
        return [
            [
                Text(f"p50 {humanize.duration(latency.p50)}", style="green"),
                Text(f"p95 {humanize.duration(latency.p95)}", style="yellow"),
                Text(f"p99 {humanize.duration(latency.p99)}", style="red"),
                Text(f"last {snapshot.latency_window_s:.0f} s", style="dim"),
            ]
        ]

    def history(self, series: Series) -> tuple[tuple[float | None, ...], ...]:
        return (series.p50_s, series.p95_s, series.p99_s)

    def unit(self, value: float) -> str:
        return humanize.duration(value)


class ConnectionsPanel(ChartPanel):
    TITLE = "Connections"
    CHART_ID = "connections-chart"

    def figures(self, snapshot: Snapshot) -> Sequence[Line]:
        active = Text(f"{humanize.count(snapshot.active_connections)} active", style="bold")
        waiting = snapshot.waiting_for_upstream
        # Always shown: a queue in front of the upstream pool must never be silent.
        queued = Text(
            f"{humanize.count(waiting)} waiting for an upstream connection",
            style="bold yellow" if waiting else "dim",
        )
        connections = snapshot.connections
        limits = connections.limits
        return [
            [active, Text(f"{humanize.count(connections.open)} open"), queued],
            [
                Text(
                    f"closed slow {humanize.count(connections.closed_slow)}",
                    style="yellow" if connections.closed_slow else "",
                ),
                Text(
                    f"refused {humanize.count(connections.refused)}",
                    style="red" if connections.refused else "",
                ),
                Text(
                    f"cap {limits.max_connections:,}/worker"
                    f" · timeouts {limits.header_timeout_s:g}/{limits.body_timeout_s:g} s",
                    style="dim",
                ),
            ],
        ]

    def history(self, series: Series) -> tuple[tuple[float | None, ...], ...]:
        return (tuple(float(n) for n in series.active_connections),)

    def unit(self, value: float) -> str:
        return humanize.count(value)


class ErrorsPanel(Panel):
    """Counts, rate and share of requests for each error type."""

    TITLE = "Errors"

    def compose(self) -> ComposeResult:
        yield Readout()

    def show(self, snapshot: Snapshot) -> None:
        lines: list[Line] = [
            [Text(f"{'type':<10}{'count':>7}{'rate/s':>8}{'share':>7}", style="dim")]
        ]
        for error_type in ERROR_TYPES:
            errors = snapshot.errors_by_type.get(error_type, 0)
            rate = snapshot.error_rate_by_type.get(error_type, 0.0)
            share = snapshot.error_share_by_type.get(error_type, 0.0)
            row = (
                f"{error_type:<10}{humanize.count(errors):>7}"
                f"{humanize.rate(rate):>8}{humanize.percent(share):>7}"
            )
            lines.append([Text(row, style="red" if errors else "dim")])
        self.query_one(Readout).show(lines)
        share = snapshot.errors_total / snapshot.requests_total if snapshot.requests_total else 0.0
        self.caption(f"{humanize.count(snapshot.errors_total)} · {humanize.percent(share)}")


class TokensPanel(Panel):
    """Input and output tokens: totals, per request (average and last), and the rate."""

    TITLE = "Tokens"

    def compose(self) -> ComposeResult:
        yield Readout()

    def show(self, snapshot: Snapshot) -> None:
        mark = "~" if snapshot.tokens_estimated else ""

        def row(label: str, tokens_in: float, tokens_out: float) -> Line:
            figures = f"{humanize.count(tokens_in) + mark:>8}{humanize.count(tokens_out) + mark:>8}"
            return [Text(f"{label:<6}{figures}")]

        lines: list[Line] = [
            [Text(f"{'':<6}{'input':>8}{'output':>8}", style="dim")],
            row("total", snapshot.input_tokens_total, snapshot.output_tokens_total),
            row("avg", round(snapshot.avg_input_tokens), round(snapshot.avg_output_tokens)),
            row("last", snapshot.last_input_tokens, snapshot.last_output_tokens),
            [Text(f"{'rate':<6}{humanize.rate(snapshot.tokens_per_s):>8} tok/s", style="bold")],
        ]
        if snapshot.credits_total is not None:
            lines.append([Text(f"{'credit':<6}{snapshot.credits_total:>8.2f}")])
        self.query_one(Readout).show(lines)
        self.caption("~ estimated" if snapshot.tokens_estimated else "")


class ResourcesPanel(Panel):
    """CPU and memory of the gateway's processes and of the machine."""

    TITLE = "Resources"

    def compose(self) -> ComposeResult:
        yield Gauges()

    def show(self, snapshot: Snapshot) -> None:
        res = snapshot.resources
        cores = max(res.cpu_count, 1)
        total = max(res.system_memory_total_bytes, 1)
        self.query_one(Gauges).show(
            [
                # The gateway's CPU reads like top: percent of one core.
                Reading(
                    "gw cpu",
                    res.gateway_cpu_percent / (100 * cores),
                    f"{res.gateway_cpu_percent:.0f}%",
                ),
                Reading(
                    "gw mem",
                    res.gateway_memory_bytes / total,
                    humanize.size(res.gateway_memory_bytes),
                ),
                Reading(
                    "sys cpu",
                    res.system_cpu_percent / (100 * cores),
                    f"{res.system_cpu_percent / cores:.0f}%",
                ),
                Reading(
                    "sys mem",
                    res.system_memory_used_bytes / total,
                    humanize.percent(res.system_memory_used_bytes / total),
                ),
            ]
        )
        self.caption(f"{cores} cores · {humanize.size(res.system_memory_total_bytes)}")


class HeaderBar(Widget):
    """Version, listen address, workers and uptime, on one line."""

    DEFAULT_CSS = """
    HeaderBar {
        dock: top;
        height: 1;
        background: $panel;
        color: $foreground;
        padding: 0 1;
    }
    """

    def __init__(self, version: str, listen_url: str) -> None:
        super().__init__()
        self._version = version
        self._listen_url = listen_url
        self._text = self._describe(Snapshot())

    def show(self, snapshot: Snapshot) -> None:
        text = self._describe(snapshot)
        if text != self._text:
            self._text = text
            self.refresh()

    def render(self) -> RenderResult:
        return self._text

    def _describe(self, snapshot: Snapshot) -> Text:
        workers = Text(f"{snapshot.workers} worker" + ("" if snapshot.workers == 1 else "s"))
        stalled = snapshot.stalled_workers
        if stalled:
            workers.append(f" ({len(stalled)} stalled: {', '.join(map(str, stalled))})", "bold red")
        return Text.assemble(
            ("llm-gateway ", "bold"),
            inert(self._version),
            "  │  ",
            inert(self._listen_url, "bold"),
            "  │  ",
            workers,
            "  │  ",
            f"up {humanize.uptime(snapshot.uptime_s)}",
            no_wrap=True,
            overflow="ellipsis",
        )
