"""Tables drawn as plain lines of text, in fixed-width columns.

Drawn as text rather than with a ``DataTable``: at four refreshes a second a
``DataTable`` repaints itself whole on any change, which cost about a quarter of the
dashboard's CPU for a handful of rows. Each cell is a :class:`~rich.text.Text` whose
``justify`` says on which side it is padded.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.text import Text


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


def table(headings: Sequence[Text], rows: Iterable[Sequence[Text]], widths: Sequence[int]) -> Text:
    """The headings in bold, then the rows, every other one shaded."""
    lines = [line(headings, widths, style="bold")]
    lines.extend(
        line(row, widths, style="on #222222" if index % 2 else "") for index, row in enumerate(rows)
    )
    return Text("\n", end="").join(lines)
