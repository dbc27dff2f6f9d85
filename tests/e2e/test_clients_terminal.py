"""End to end in tmux: ``llm-gateway top`` shows each client's requests, and no key.

A gateway with two named keys serves known traffic from the official SDKs, some of it
with a wrong key; ``top`` attached in a real terminal brings up the Clients panel with
Tab, and its lines must read what each client sent, while nothing the terminal ever
showed holds a key.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

import anthropic
import openai
import pytest

from tests.e2e.test_terminal import ROOT
from tests.e2e.tmux import Tmux
from tests.processes import running

ALICE = "sk-alice-terminal-3b9d1f7a5c2e"
BOB = "sk-bob-terminal-8e6c4a2f0d1b"
WRONG = "sk-nobody-terminal-000000000000"
CONFIG = f"""
[[keys]]
label = "alice"
key = "{ALICE}"

[[keys]]
label = "bob"
key = "{BOB}"

[[models]]
name = "*"
provider = "sim"
"""
MESSAGES = [{"role": "user", "content": "hi"}]
SENT = {"alice": (3, 0), "bob": (2, 0), "(unauthenticated)": (2, 2)}
HEADING = "Client              Req  Err"


def send(base_url: str) -> None:
    with openai.OpenAI(base_url=f"{base_url}/v1", api_key=ALICE, max_retries=0) as alice:
        for _ in range(3):
            alice.chat.completions.create(model="sim", messages=MESSAGES)  # type: ignore[arg-type]
    with anthropic.Anthropic(base_url=base_url, api_key=BOB, max_retries=0) as bob:
        for _ in range(2):
            bob.messages.create(model="sim", max_tokens=16, messages=MESSAGES)  # type: ignore[arg-type]
    with openai.OpenAI(base_url=f"{base_url}/v1", api_key=WRONG, max_retries=0) as stranger:
        for _ in range(2):
            with pytest.raises(openai.AuthenticationError):
                stranger.chat.completions.create(model="sim", messages=MESSAGES)  # type: ignore[arg-type]


def slot_heading(screen: str) -> str:
    """The heading row of the panel up in the lower-left slot: the line under its title."""
    lines = screen.splitlines()
    title = next(i for i, line in enumerate(lines) if "Tab ▸" in line)
    return lines[title + 1]


def another_panel(heading: str) -> Callable[[str], bool]:
    return lambda screen: slot_heading(screen) != heading


def shows_what_each_sent(screen: str) -> bool:
    for label, (requests, errors) in SENT.items():
        if not re.search(rf"{re.escape(label)}\s+{requests}\s+{errors}\s", screen):
            return False
    return True


def test_top_shows_each_client_s_counts_and_never_a_key(tmux: Tmux, tmp_path: Path) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text(CONFIG)
    socket = tmp_path / "gw.sock"
    args = ["serve", "--port", "0", "--config", str(config), "--control-socket", str(socket)]
    with running(args) as gateway:
        send(gateway.base_url)
        tmux.start(
            [f"{sys.executable} -m llm_gateway top --socket {socket}", 'echo "EXIT=$?"'],
            width=120,
            height=40,
            cwd=ROOT,
        )
        screen = tmux.wait_for(lambda s: "Tab ▸" in s, "top's dashboard", timeout=60)
        # Tab along the cycle, one panel at a time, until the Clients panel is up.
        for _ in range(20):  # more than the cycle holds, and room for a Tab sent again
            if HEADING in screen:
                break
            heading = slot_heading(screen)
            tmux.press("Tab")
            try:
                screen = tmux.wait_for(another_panel(heading), "the next panel", timeout=5)
            except AssertionError:
                # On a loaded machine a Tab can come before the app reads keys: again.
                screen = tmux.screen()
        tmux.wait_for(shows_what_each_sent, "the Clients panel with what each client sent")
        tmux.press("q")
        tmux.wait_for(lambda s: "EXIT=0" in s, "top to detach")
        shown = tmux.scrollback()
    output = "".join(gateway.output)
    assert "client=alice" in output
    for key in (ALICE, BOB, WRONG):
        assert key not in shown
        assert key not in output
