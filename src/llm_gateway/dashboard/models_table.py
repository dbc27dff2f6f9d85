"""The per-model table: requests, errors, latency, tokens and share of traffic."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult

from llm_gateway.dashboard import humanize
from llm_gateway.dashboard.columns import RankedTable
from llm_gateway.dashboard.inert import inert
from llm_gateway.dashboard.panels import Panel
from llm_gateway.metrics.interval import OTHER_MODELS
from llm_gateway.metrics.snapshot import ModelStats, Snapshot

_MODEL_NAME_CELLS = 22


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


class ModelsTable(RankedTable):
    """Busiest model first, one line each."""

    COLUMNS = {
        "Model": _MODEL_NAME_CELLS,
        "Req": 4,
        "Err": 4,
        "p50": 6,
        "p95": 6,
        "In": 5,
        "Out": 5,
        "Share": 5,
    }

    def __init__(self) -> None:
        super().__init__(id="models-table")

    def show(self, models: Sequence[ModelStats]) -> None:
        self.show_rows({m.model: cells(m) for m in models})


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
