"""End to end in a real terminal: ``llm-gateway top`` attached to a gateway that has none.

The gateway runs headless, as under systemd; ``top`` runs in a tmux pane, and the pane's
shell prints top's exit status and the terminal mode after it, as in ``test_terminal``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import openai

from tests.e2e.test_terminal import ROOT, assert_terminal_restored
from tests.e2e.tmux import Tmux
from tests.processes import running


def start_top(tmux: Tmux, socket: Path, *, width: int = 120, height: int = 40) -> None:
    tmux.start(
        [
            f"{sys.executable} -m llm_gateway top --socket {socket}",
            'echo "EXIT=$?"',
            "stty -a",
        ],
        width=width,
        height=height,
        cwd=ROOT,
    )


def ask(client: openai.OpenAI, model: str) -> None:
    client.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}])


def ended(screen: str) -> bool:
    return "EXIT=" in screen and "min = " in screen


def test_top_shows_the_history_follows_live_and_detaches_without_touching_the_gateway(
    tmux: Tmux, tmp_path: Path
) -> None:
    socket = tmp_path / "gw.sock"
    with running(["serve", "--port", "0", "--control-socket", str(socket)]) as gateway:
        client = openai.OpenAI(base_url=gateway.base_url + "/v1", api_key="-", max_retries=0)
        for _ in range(9):
            ask(client, "before-top")

        start_top(tmux, socket)
        screen = tmux.wait_for(
            lambda s: (
                re.search(r"total 9\b", s) is not None
                and "model=before-top" in s
                and "q Detach" in s
            ),
            "the 9 requests, their log lines and the footer",
        )
        assert "Plain logs" not in screen
        ask(client, "while-top-looks")
        tmux.wait_for(lambda s: "model=while-top-looks" in s, "the live request in the log panel")

        tmux.press("q")
        assert_terminal_restored(tmux, tmux.wait_for(ended, "top to detach"))
        gateway.wait_for_output("a viewer detached")
        ask(client, "after-top")
        gateway.wait_for_output("model=after-top")
        assert gateway.process.poll() is None
        client.close()


def test_top_ends_with_one_line_when_the_gateway_stops(tmux: Tmux, tmp_path: Path) -> None:
    socket = tmp_path / "gw.sock"
    with running(["serve", "--port", "0", "--control-socket", str(socket)]) as gateway:
        start_top(tmux, socket, width=80, height=24)
        tmux.wait_for(lambda s: "─Log─" in s and "Detach" in s, "the dashboard at 80x24")
        gateway.stop()
        screen = tmux.wait_for(ended, "top to end")
    assert f"llm-gateway top: the gateway at {gateway.base_url} stopped" in screen
    assert_terminal_restored(tmux, screen)
