"""Tables drawn as plain lines of text, in fixed-width columns.

Drawn as text rather than with a ``DataTable``: at four refreshes a second a
``DataTable`` repaints itself whole on any change, which cost about a quarter of the
dashboard's CPU for a handful of rows. Each cell is a :class:`~rich.text.Text` whose
``justify`` says on which side it is padded.

A table shows the rows that fit its height (:func:`fitting`); when some do not, its last
line says how many (``+3 more``), so no row leaves the screen unannounced.
:class:`RankedTable` is such a table as a widget, for rows that come already ranked.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import ClassVar, TypeVar

from rich.text import Text
from textual.app import RenderResult
from textual.widget import Widget

Row = TypeVar("Row")


def line(row: Sequence[Text], widths: Iterable[int], style: str = "") -> Text:
    """One line of a table: each cell fitted to its column, one space between."""
    out = Text(end="", no_wrap=True, overflow="crop", style=style)
    for index, (cell, width) in enumerate(zip(row, widths, strict=True)):
        if index:
            out.append(" ")
        out.append_text(fit(cell, width))
    return out


def fit(cell: Text, width: int) -> Text:
    """``cell`` cut or padded to ``width`` cells, on the side its justification says."""
    fitted = cell.copy()
    fitted.truncate(width, overflow="ellipsis")
    gap = width - fitted.cell_len
    if cell.justify == "right":
        return Text(" " * gap, end="") + fitted
    fitted.pad_right(gap)
    return fitted


def fitting(rows: Sequence[Row], height: int, total: int = 0) -> tuple[Sequence[Row], int]:
    """The first ``rows`` that fit in ``height`` lines under the headings, and how many
    of ``total`` (at least ``len(rows)``: a caller may hold only some) are left out.

    When some are, the last line is kept to say so instead of showing one more row.
    """
    room = max(height - 1, 1)
    total = max(total, len(rows))
    shown = rows[: room if total <= room else room - 1]
    return shown, total - len(shown)


def table(
    headings: Sequence[Text],
    rows: Iterable[Sequence[Text]],
    widths: Sequence[int],
    more: int = 0,
) -> Text:
    """The headings in bold, then the rows, every other one shaded, then ``+N more``
    when ``more`` rows were left out (see :func:`fitting`)."""
    lines = [line(headings, widths, style="bold")]
    lines.extend(
        line(row, widths, style="on #222222" if index % 2 else "") for index, row in enumerate(rows)
    )
    if more:
        lines.append(Text(f"+{more} more", end="", style="bold"))
    return Text("\n", end="").join(lines)


class RankedTable(Widget):
    """One row per name, in the order given (the busiest first, as the snapshot ranks
    them), in the fixed-width columns of :attr:`COLUMNS`.

    A subclass names its columns; its panel hands it the rows with :meth:`show_rows`,
    which redraws only when a cell changed.
    """

    DEFAULT_CSS = """
    RankedTable {
        height: 1fr;
    }
    """

    COLUMNS: ClassVar[dict[str, int]] = {}
    """Each column's heading and width in cells: the first is a name, left-aligned; the
    rest are figures, right-aligned. Widths that every humanized figure fits, so the
    columns never jitter or clip."""

    def __init__(self, *, id: str) -> None:
        super().__init__(id=id)
        self._rows: dict[str, tuple[Text, ...]] = {}
        self._headings = tuple(
            Text(heading, justify="right" if index else "left")
            for index, heading in enumerate(self.COLUMNS)
        )
        self._widths = tuple(self.COLUMNS.values())

    def row(self, name: str) -> tuple[Text, ...]:
        """The cells shown for ``name``."""
        return self._rows[name]

    @property
    def names(self) -> list[str]:
        """The names of the rows, in the order shown."""
        return list(self._rows)

    def show_rows(self, rows: dict[str, tuple[Text, ...]]) -> None:
        if list(rows.items()) != list(self._rows.items()):
            self._rows = rows
            self.refresh()

    def render(self) -> RenderResult:
        shown, more = fitting(tuple(self._rows.values()), self.size.height)
        return table(self._headings, shown, self._widths, more)
