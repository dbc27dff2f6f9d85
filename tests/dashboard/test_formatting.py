"""Numbers for people, and untrusted text made inert."""

from __future__ import annotations

import pytest

from llm_gateway.dashboard import humanize
from llm_gateway.dashboard.inert import inert, inert_str


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (0, "0"),
        (999, "999"),
        (1000, "1.0k"),
        (1234, "1.2k"),
        (9_960, "10k"),
        (99_960, "100k"),
        (999_999, "1.0M"),
        (5_600_000, "5.6M"),
        (3.2e9, "3.2G"),
    ],
)
def test_count(value: float, shown: str) -> None:
    assert humanize.count(value) == shown


@pytest.mark.parametrize(
    ("value", "shown"),
    [(0, "0"), (0.01, "<0.1"), (0.45, "0.5"), (9.94, "9.9"), (9.96, "10"), (1234.5, "1.2k")],
)
def test_rate(value: float, shown: str) -> None:
    assert humanize.rate(value) == shown


@pytest.mark.parametrize(
    ("value", "shown"), [(0, "0 B"), (512, "512 B"), (3_400_000, "3.4 MB"), (16e9, "16 GB")]
)
def test_size(value: float, shown: str) -> None:
    assert humanize.size(value) == shown


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (None, "\u2013"),
        (0.0004, "0.4 ms"),
        (0.0123, "12 ms"),
        (0.25, "250 ms"),
        (0.9996, "1.00 s"),
        (1.254, "1.25 s"),
        (12.34, "12.3 s"),
        (125, "2m05s"),
    ],
)
def test_duration(value: float | None, shown: str) -> None:
    assert humanize.duration(value) == shown


@pytest.mark.parametrize(
    ("value", "shown"), [(42.9, "42s"), (303, "5m03s"), (10_920, "3h02m"), (186_400, "2d03h")]
)
def test_uptime(value: float, shown: str) -> None:
    assert humanize.uptime(value) == shown


@pytest.mark.parametrize(
    ("value", "shown"), [(0, "0%"), (0.0001, "<0.1%"), (0.004, "0.4%"), (0.123, "12%"), (1, "100%")]
)
def test_percent(value: float, shown: str) -> None:
    assert humanize.percent(value) == shown


def test_inert_makes_controls_visible_and_leaves_markup_as_text() -> None:
    hostile = "a\x1b[31mred\x1b]0;title\x07 [bold]b[/] \u202eevil\x9b\x7f\tz"
    text = inert(hostile)
    assert text.plain == "a\\x1b[31mred\\x1b]0;title\\x07 [bold]b[/] \\u202eevil\\x9b\\x7f z"
    assert not text.spans
    assert all(ch.isprintable() for ch in text.plain)


def test_inert_keeps_newlines_only_when_asked() -> None:
    assert inert_str("one\ntwo") == "one\\x0atwo"
    assert inert_str("one\ntwo\r", keep_newlines=True) == "one\ntwo\\x0d"
