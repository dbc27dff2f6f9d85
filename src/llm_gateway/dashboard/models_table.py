"""The per-model table: requests, errors, latency, tokens and share of traffic."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import DataTable

from llm_gateway.dashboard import humanize
from llm_gateway.dashboard.inert import inert
from llm_gateway.dashboard.panels import Panel
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


class ModelsTable(DataTable[Text]):
    """Busiest model first; updated cell by cell so the table never flickers or jumps."""

    can_focus = False

    def __init__(self) -> None:
        super().__init__(cursor_type="none", zebra_stripes=True, id="models-table")
        self._order: list[str] = []
        self._rows: dict[str, tuple[Text, ...]] = {}

    def on_mount(self) -> None:
        for label, width in _COLUMNS.items():
            heading = Text(label, justify="left" if label == "Model" else "right")
            self.add_column(heading, width=width, key=label)

    def show(self, models: Sequence[ModelStats]) -> None:
        ranked = sorted(models, key=lambda m: (-m.requests, m.model))
        order = [m.model for m in ranked]
        rows = {m.model: cells(m) for m in ranked}
        if order != self._order:
            self.clear()
            for model in order:
                self.add_row(*rows[model], key=model)
        else:
            for model, row in rows.items():
                for label, old, new in zip(_COLUMNS, self._rows[model], row, strict=True):
                    if old != new:
                        self.update_cell(model, label, new)
        self._order = order
        self._rows = rows


class ModelsPanel(Panel):
    TITLE = "Models"

    def compose(self) -> ComposeResult:
        yield ModelsTable()

    def show(self, snapshot: Snapshot) -> None:
        self.query_one(ModelsTable).show(snapshot.models)
        self.caption(f"{len(snapshot.models)} models" if snapshot.models else "no requests yet")
