"""The charts: scales, gaps, peaks, windows, and what they draw."""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult

from llm_gateway.dashboard.chart import BandChart, Scale, columns, scale_for


def test_scale_is_linear_for_similar_values_and_empty_for_none() -> None:
    assert scale_for([None, 0.0, None]) == Scale()
    assert scale_for([1.0, 4.0, 8.0]) == Scale(top=8.0)
    assert Scale(top=8.0).fraction(4.0) == 0.5
    assert Scale(top=8.0).fraction(0.0) == 0.0


def test_scale_turns_logarithmic_when_a_peak_dwarfs_the_typical_value() -> None:
    scale = scale_for([2.0, 2.0, 3.0, 2.0, 400.0])
    assert scale.log and scale.top == 400.0
    assert scale.fraction(400.0) == 1.0
    # On a linear scale 2/400 would be a sliver; here it keeps a readable height.
    assert 0.1 < scale.fraction(2.0) < 0.3
    assert scale.fraction(2.0) < scale.fraction(3.0) < scale.fraction(40.0)


def test_columns_keep_peaks_and_gaps_newest_last() -> None:
    band = [1.0, 9.0, None, None, 2.0, 3.0, 4.0, 5.0]
    assert columns(band, 10, 2) == [9.0, None, 3.0, 5.0]
    assert columns(band, 2, 2) == [3.0, 5.0]
    # An odd count leaves the oldest column short, never the newest.
    assert columns(band[1:], 10, 2) == [9.0, None, 3.0, 5.0]
    assert columns(band[:5], 10, 2) == [1.0, 9.0, 2.0]
    assert columns([], 5, 3) == []


class ChartApp(App[None]):
    def __init__(self, chart: BandChart) -> None:
        super().__init__()
        self.chart = chart

    def compose(self) -> ComposeResult:
        yield self.chart


async def test_a_short_history_fills_the_chart_with_wide_bars_and_gaps() -> None:
    chart = BandChart()
    chart.bands = ((2.0, None, 4.0, 0.0),)
    app = ChartApp(chart)
    async with app.run_test(size=(10, 2)) as pilot:
        await pilot.pause()
        rows = str(chart.render()).split("\n")
        assert chart.span_s == 4.0
    assert rows == ["      ██  ", "  ██  ██  "]


async def test_the_window_shows_only_its_last_minutes_of_the_history() -> None:
    chart = BandChart()
    chart.bands = (tuple(float(n) for n in range(900)),)
    app = ChartApp(chart)
    async with app.run_test(size=(30, 1)) as pilot:
        await pilot.pause()
        assert chart.span_s == 900.0
        assert chart.scale.top == 899.0
        chart.window_s = 60.0
        await pilot.pause()
        assert chart.span_s == 60.0
        # Two points a column, the peak of each pair: the last minute is 840..899.
        assert chart.scale == scale_for([float(n) for n in range(841, 900, 2)])


async def test_chart_colours_each_cell_by_the_band_that_reaches_it() -> None:
    chart = BandChart()
    chart.step_s = 90.0
    chart.bands = ((1.0,), (2.0,), (4.0,))
    app = ChartApp(chart)
    async with app.run_test(size=(1, 4)) as pilot:
        await pilot.pause()
        rendered = chart.render()
        styles = [chart.get_component_rich_style(f"band-chart--band-{i}") for i in range(3)]
    assert isinstance(rendered, Text)
    lines = rendered.split("\n")
    cell_styles = [line.get_style_at_offset(app.console, 0) for line in lines]
    assert [line.plain for line in lines] == ["█", "█", "█", "█"]
    assert cell_styles == [styles[2], styles[2], styles[1], styles[0]]
