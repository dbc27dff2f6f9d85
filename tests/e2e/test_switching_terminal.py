"""End to end in a real terminal: Tab and Shift+Tab switch the lower-left panel.

Under ``serve --dashboard`` at 80x24, where one panel is shown, and at 200x60, where the
one up and the next stand side by side; and under ``llm-gateway top``, which only views.
A panel is told by its table's heading row.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from tests.e2e.test_terminal import ROOT, start_gateway
from tests.e2e.tmux import Tmux
from tests.processes import running

MODELS = "Model                   Req  Err"
UPSTREAMS = "Model            Upstream       Provider"
STARTUP_S = 60.0
"""How long a program may take to draw its first screen: the test machine may be busy."""


def only(heading: str, other: str) -> Callable[[str], bool]:
    return lambda screen: heading in screen and other not in screen


def quit_gateway(tmux: Tmux) -> None:
    tmux.press("q")
    tmux.wait_for(lambda s: "EXIT=0" in s, "the gateway to exit")


def test_tab_and_shift_tab_switch_the_panel_at_80x24(tmux: Tmux, tmp_path: Path) -> None:
    start_gateway(tmux, tmp_path / "pid", "--dashboard", width=80, height=24)
    tmux.wait_for(
        lambda s: (
            only(MODELS, UPSTREAMS)(s)
            and "Models · " in s
            and " · Upstreams" in s
            and "Tab ▸" in s
            and "tab/⇧tab Panels" in s
        ),
        "the models table, the strip of panels in its title and Tab in the footer",
        timeout=STARTUP_S,
    )

    tmux.press("BTab")
    tmux.wait_for(only(UPSTREAMS, MODELS), "Shift+Tab back to Upstreams, last in the cycle")
    tmux.press("Tab")
    tmux.wait_for(only(MODELS, UPSTREAMS), "Tab on around to Models")
    quit_gateway(tmux)


def heading_order(screen: str) -> tuple[str, str] | None:
    """The two headings on one line, left to right, when both are shown side by side."""
    for line in screen.splitlines():
        if MODELS in line and UPSTREAMS in line:
            first = MODELS if line.index(MODELS) < line.index(UPSTREAMS) else UPSTREAMS
            return (first, UPSTREAMS if first == MODELS else MODELS)
    return None


def test_wide_shows_two_panels_and_tab_brings_the_next_up(tmux: Tmux, tmp_path: Path) -> None:
    start_gateway(tmux, tmp_path / "pid", "--dashboard", width=200, height=60)
    tmux.wait_for(
        lambda s: MODELS in s and s.count("Tab ▸") == 1, "a pair from Models on", timeout=STARTUP_S
    )
    tmux.press("BTab")
    tmux.wait_for(
        lambda s: heading_order(s) == (UPSTREAMS, MODELS), "Upstreams up, Models beside it"
    )
    quit_gateway(tmux)


def test_top_switches_panels_with_tab(tmux: Tmux, tmp_path: Path) -> None:
    socket = tmp_path / "gw.sock"
    with running(["serve", "--demo", "--port", "0", "--control-socket", str(socket)]):
        tmux.start(
            [f"{sys.executable} -m llm_gateway top --socket {socket}", 'echo "EXIT=$?"'],
            width=80,
            height=24,
            cwd=ROOT,
        )
        tmux.wait_for(only(MODELS, UPSTREAMS), "top's models table", timeout=STARTUP_S)
        tmux.press("BTab")
        tmux.wait_for(only(UPSTREAMS, MODELS), "top's upstreams")
        tmux.press("q")
        tmux.wait_for(lambda s: "EXIT=0" in s, "top to detach")
