"""Horizontal gauges (``gateway cpu ▕████▌    ▏ 45%``) that stretch to the width they get."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.app import RenderResult
from textual.geometry import Size
from textual.widget import Widget

_EIGHTHS = " ▏▎▍▌▋▊▉█"


@dataclass(frozen=True, slots=True)
class Reading:
    label: str
    fraction: float
    """How full the gauge is, 0-1 (clamped)."""
    figure: str
    """The value for people, printed after the bar."""


def bar(fraction: float, width: int) -> str:
    """A bar ``width`` cells wide filled to ``fraction``, in eighths of a cell."""
    eighths = round(min(max(fraction, 0.0), 1.0) * width * 8)
    full, part = divmod(eighths, 8)
    return ("█" * full + (_EIGHTHS[part] if part else "")).ljust(width)


class Gauges(Widget):
    """One gauge per line: label, bar, figure; the bar takes the width that is left."""

    COMPONENT_CLASSES = {"gauges--low", "gauges--mid", "gauges--high", "gauges--track"}

    DEFAULT_CSS = """
    Gauges {
        height: auto;
    }
    Gauges > .gauges--low { color: $success; }
    Gauges > .gauges--mid { color: $warning; }
    Gauges > .gauges--high { color: $error; }
    Gauges > .gauges--track { color: $foreground-muted; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._readings: Sequence[Reading] = ()

    def show(self, readings: Sequence[Reading]) -> None:
        if readings == self._readings:
            return
        reshaped = len(readings) != len(self._readings)
        self._readings = readings
        self.refresh(layout=reshaped)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._readings)

    def _level(self, fraction: float) -> str:
        if fraction >= 0.9:
            return "gauges--high"
        return "gauges--mid" if fraction >= 0.7 else "gauges--low"

    def render(self) -> RenderResult:
        if not self._readings:
            return Text()
        width = self.content_region.width
        label_width = max(len(r.label) for r in self._readings)
        figure_width = max(len(r.figure) for r in self._readings)
        bar_width = max(width - label_width - figure_width - 4, 1)
        track = self.get_component_rich_style("gauges--track")
        lines = []
        for reading in self._readings:
            line = Text(reading.label.ljust(label_width) + " ", no_wrap=True, end="")
            line.append("▕", track)
            line.append(
                bar(reading.fraction, bar_width),
                self.get_component_rich_style(self._level(reading.fraction)),
            )
            line.append("▏", track)
            line.append(" " + reading.figure.rjust(figure_width))
            lines.append(line)
        return Text("\n", end="").join(lines)
