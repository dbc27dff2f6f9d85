"""A bar chart of the last minutes that copes with gaps, idle spells and bursts.

:class:`BandChart` draws one bar per column, newest on the right, from up to three
*bands*: series that nest (``p50 <= p95 <= p99``, or ``errors <= requests``). Each
bar is as tall as its largest band and coloured by band, so one chart shows all three
latency percentiles at once.

The chart spans :attr:`BandChart.window_s` (1, 5 or 15 minutes; the history always holds
15), or the gateway's uptime while that is shorter, so the first minute fills the chart
rather than one column of it: while there are fewer points than columns, each point is
drawn several columns wide. Past the width, each column takes the *peak* of the points
that fall in it, so a one-second burst stays visible when 900 points are squeezed into
60 columns. A point that is ``None`` (no request, so no latency) is a gap, never a zero.
When the peak is ten times the typical (median) value
or more, the scale turns logarithmic, so a quiet minute is not flattened by a burst; :attr:`scale`
says which, for the panel to label.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import groupby

from rich.text import Text
from textual.app import RenderResult
from textual.reactive import reactive
from textual.widget import Widget

WINDOWS_S = (60.0, 300.0, 900.0)
"""The spans a chart can show, shortest first; ``w`` cycles through them."""
_BLOCKS = " ▁▂▃▄▅▆▇█"
_LOG_FROM_RATIO = 10.0

Band = Sequence[float | None]


@dataclass(frozen=True, slots=True)
class Scale:
    """How values map to heights: linear from 0, or logarithmic above ``floor``."""

    top: float = 0.0
    log: bool = False
    floor: float = 0.0

    def fraction(self, value: float) -> float:
        """Where ``value`` sits between the bottom (0) and the top (1) of the chart."""
        if value <= 0 or self.top <= 0:
            return 0.0
        if not self.log:
            return min(value / self.top, 1.0)
        span = math.log10(self.top / self.floor)
        return min(max(math.log10(value / self.floor) / span, 0.0), 1.0)


def scale_for(values: Sequence[float | None]) -> Scale:
    """A scale that fits ``values``: logarithmic when the peak dwarfs the typical value."""
    positive = sorted(v for v in values if v is not None and v > 0)
    if not positive:
        return Scale()
    top, typical = positive[-1], positive[len(positive) // 2]
    if top / typical < _LOG_FROM_RATIO:
        return Scale(top=top)
    # A floor below the smallest value keeps that value visibly above the axis.
    return Scale(top=top, log=True, floor=positive[0] / 2)


def columns(band: Band, width: int, points_per_column: int) -> list[float | None]:
    """``band`` reduced to at most ``width`` column peaks, newest last, gaps kept."""
    used = min(width, math.ceil(len(band) / points_per_column))
    start = len(band) - used * points_per_column
    peaks: list[float | None] = []
    for column in range(used):
        lo = max(start + column * points_per_column, 0)
        hi = start + (column + 1) * points_per_column
        present = [v for v in band[lo:hi] if v is not None]
        peaks.append(max(present) if present else None)
    return peaks


class BandChart(Widget):
    """Bars over the last few minutes, one to three nested bands, newest on the right."""

    COMPONENT_CLASSES = {"band-chart--band-0", "band-chart--band-1", "band-chart--band-2"}

    DEFAULT_CSS = """
    BandChart {
        height: 1fr;
        min-height: 1;
    }
    BandChart > .band-chart--band-0 { color: $success; }
    BandChart > .band-chart--band-1 { color: $warning; }
    BandChart > .band-chart--band-2 { color: $error; }
    """

    bands: reactive[tuple[tuple[float | None, ...], ...]] = reactive(((),), layout=False)
    """The series to draw, innermost (smallest) first; all of one length."""
    step_s: reactive[float] = reactive(1.0, layout=False)

    window_s: reactive[float] = reactive(WINDOWS_S[-1], layout=False)
    """The longest span shown; a shorter history (the uptime) fills the width instead."""

    @property
    def span_s(self) -> float:
        """The time the chart shows now: the window, or the whole history while shorter."""
        return self._shown() * self.step_s

    def _shown(self) -> int:
        return min(len(self.bands[-1]), max(1, round(self.window_s / self.step_s)))

    def _peaks(self, width: int) -> list[list[float | None]]:
        """Each band's column peaks, newest last, stretched to fill a short history."""
        shown = self._shown()
        if shown == 0:
            return [[] for _ in self.bands]
        per_column = max(1, math.ceil(shown / width))
        repeat = max(1, width // shown)
        return [
            [peak for peak in columns(band[-shown:], width, per_column) for _ in range(repeat)]
            for band in self.bands
        ]

    @property
    def scale(self) -> Scale:
        """The scale of what is drawn now (the peaks of the visible columns)."""
        return scale_for(self._peaks(max(self.size.width, 1))[-1])

    def render(self) -> RenderResult:
        width, height = self.size.width, self.size.height
        if width <= 0 or height <= 0:
            return Text()
        peaks = self._peaks(width)
        scale = scale_for(peaks[-1])
        bars = [_bar(column, scale, height) for column in zip(*peaks, strict=True)]
        styles = [
            self.get_component_rich_style(f"band-chart--band-{index}")
            for index in range(len(self.bands))
        ]
        pad = " " * (width - len(bars))
        rows: list[Text] = []
        for row in range(height - 1, -1, -1):
            line = Text(pad, no_wrap=True, overflow="crop", end="")
            cells = (_cell(heights, row) for heights in bars)
            for band, run in groupby(cells, key=lambda cell: cell[1]):
                line.append("".join(char for char, _ in run), styles[band] if band >= 0 else "")
            rows.append(line)
        return Text("\n", end="").join(rows)


def _bar(values: tuple[float | None, ...], scale: Scale, height: int) -> tuple[int, ...]:
    """Each band's height in eighths of a row; any positive value gets at least one."""
    return tuple(
        0 if v is None or v <= 0 else max(1, round(scale.fraction(v) * height * 8)) for v in values
    )


def _cell(heights: tuple[int, ...], row: int) -> tuple[str, int]:
    """The block drawn in ``row`` of a bar, and the band that colours it (-1: empty)."""
    fill = min(max(max(heights) - row * 8, 0), 8)
    if fill == 0:
        return " ", -1
    level = row * 8 + fill
    return _BLOCKS[fill], next(i for i, h in enumerate(heights) if h >= level)
