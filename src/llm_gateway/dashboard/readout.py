"""Figures that reflow to the width they get, redrawn without a relayout when they can be.

A :class:`Readout` holds lines of *chunks* (``p50 120 ms``, ``p95 450 ms``...). Each line
packs as many whole chunks as fit the width and carries the rest on to the next line,
so the same panel reads well at 80 columns and at 200. At four refreshes a second the
text changes constantly while its shape rarely does, so a relayout is asked for only
when the number of lines changes.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import RenderResult
from textual.geometry import Size
from textual.widget import Widget

Line = Sequence[Text]

_SEPARATOR = "  "


def pack(lines: Sequence[Line], width: int) -> list[Text]:
    """``lines`` with each line's chunks packed into rows of at most ``width`` cells."""
    rows: list[Text] = []
    for chunks in lines:
        row = Text(end="", no_wrap=True, overflow="ellipsis")
        for chunk in chunks:
            needed = chunk.cell_len if not row else len(_SEPARATOR) + chunk.cell_len
            if row and row.cell_len + needed > width:
                rows.append(row)
                row = Text(end="", no_wrap=True, overflow="ellipsis")
            elif row:
                row.append(_SEPARATOR)
            row.append_text(chunk)
        rows.append(row)
    return rows


class Readout(Widget):
    """Lines of figures, each packed to the widget's width."""

    DEFAULT_CSS = """
    Readout {
        height: auto;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._lines: Sequence[Line] = ()

    def show(self, lines: Sequence[Line]) -> None:
        if lines == self._lines:
            return
        width = max(self.content_region.width, 1)
        reshaped = len(pack(lines, width)) != len(pack(self._lines, width))
        self._lines = lines
        self.refresh(layout=reshaped)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(pack(self._lines, max(width, 1)))

    def render(self) -> RenderResult:
        return Text("\n", end="").join(pack(self._lines, max(self.content_region.width, 1)))
