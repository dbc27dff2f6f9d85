"""The per-model table: requests, errors, latency, tokens and share of traffic."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult, RenderResult
from textual.widget import Widget

from llm_gateway.dashboard import humanize
from llm_gateway.dashboard.columns import fitting, table
from llm_gateway.dashboard.inert import inert
from llm_gateway.dashboard.panels import Panel
from llm_gateway.metrics.interval import OTHER_MODELS
from llm_gateway.metrics.snapshot import ModelStats, Snapshot

_MODEL_NAME_CELLS = 22
# Fixed widths that every humanized figure fits, so the columns never jitter or clip.
_COLUMNS = {
    "Model": _MODEL_NAME_CELLS,
    "Req": 4,
    "Err": 4,
    "p50": 6,
    "p95": 6,
    "In": 5,
    "Out": 5,
    "Share": 5,
}


def cells(stats: ModelStats) -> tuple[Text, ...]:
    """One table row; the model name is drawn inert, whatever it contains."""
    name = inert(stats.model)
    name.truncate(_MODEL_NAME_CELLS, overflow="ellipsis")
    mark = "~" if stats.tokens_estimated else ""
    figures = (
        humanize.count(stats.requests),
        humanize.count(stats.errors),
        humanize.duration(stats.latency.p50),
        humanize.duration(stats.latency.p95),
        humanize.count(stats.input_tokens) + mark,
        humanize.count(stats.output_tokens) + mark,
        humanize.percent(stats.share),
    )
    error_style = "red" if stats.errors else ""
    return (
        name,
        *(
            Text(f, justify="right", style=error_style if i == 1 else "")
            for i, f in enumerate(figures)
        ),
    )


class ModelsTable(Widget):
    """Busiest model first, one line each, in fixed-width columns.

    Drawn as plain lines of text (see :mod:`.columns`).
    """

    DEFAULT_CSS = """
    ModelsTable {
        height: 1fr;
    }
    """

    def __init__(self) -> None:
        super().__init__(id="models-table")
        self._rows: dict[str, tuple[Text, ...]] = {}

    def row(self, model: str) -> tuple[Text, ...]:
        """The cells shown for ``model``."""
        return self._rows[model]

    def show(self, models: Sequence[ModelStats]) -> None:
        ranked = sorted(models, key=lambda m: (-m.requests, m.model))
        rows = {m.model: cells(m) for m in ranked}
        if list(rows.items()) != list(self._rows.items()):
            self._rows = rows
            self.refresh()

    def render(self) -> RenderResult:
        shown, more = fitting(tuple(self._rows.values()), self.size.height)
        return table(_HEADINGS, shown, _WIDTHS, more)


_HEADINGS = tuple(
    Text(label, justify="left" if label == "Model" else "right") for label in _COLUMNS
)
_WIDTHS = tuple(_COLUMNS.values())


class ModelsPanel(Panel):
    TITLE = "Models"

    def compose(self) -> ComposeResult:
        yield ModelsTable()

    def show(self, snapshot: Snapshot) -> None:
        self.query_one(ModelsTable).show(snapshot.models)
        if snapshot.models_capped:
            # Say it, so a person reading the table knows why names are missing from it.
            self.caption(f"{len(snapshot.models)} rows · cap reached: new names in {OTHER_MODELS}")
        else:
            self.caption(f"{len(snapshot.models)} models" if snapshot.models else "no requests yet")
