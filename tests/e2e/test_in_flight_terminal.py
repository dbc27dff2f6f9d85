"""End to end in a real terminal: three slow streams in the In flight panel, then their leaving.

A headless gateway streams from its in-process simulator (slowed by ``+tps``); ``llm-gateway
top`` shows it in a tmux pane at 80x24, where ``Tab`` brings up In flight. Two streams end
on their own; the client of the third goes away mid-stream. Each must be on screen while it
streams and gone once it ends, whichever way.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

import openai

from tests.e2e.test_top import start_top
from tests.e2e.tmux import Tmux
from tests.processes import running

ENDING = ("e2e-a+tokens=60+tps=10", "e2e-b+tokens=60+tps=10")
LEAVING = "e2e-c+tokens=2000+tps=20"


ROW = re.compile(r" (streaming|waiting) +(~\S+|\u2013)$")
"""The end of a request's line: its state, then its output so far."""


def rows(screen: str) -> list[str]:
    """The In flight panel's request lines."""
    return [line for line in screen.splitlines() if ROW.search(line.rstrip())]


def listed(screen: str, name: str) -> bool:
    return any(name in row for row in rows(screen))


def test_three_slow_streams_show_in_flight_and_leave_when_they_end_or_their_client_goes(
    tmux: Tmux, tmp_path: Path
) -> None:
    socket = tmp_path / "gw.sock"
    with running(["serve", "--port", "0", "--control-socket", str(socket)]) as gateway:
        client = openai.OpenAI(base_url=gateway.base_url + "/v1", api_key="-", max_retries=0)
        leave = threading.Event()

        def stream(model: str) -> None:
            with client.chat.completions.create(
                model=model, messages=[{"role": "user", "content": "hi"}], stream=True
            ) as chunks:
                for _ in chunks:
                    if leave.is_set() and model == LEAVING:
                        return

        start_top(tmux, socket, width=80, height=24)
        tmux.wait_for(lambda s: "Tab ▸" in s, "top's dashboard")
        tmux.press("Tab")
        tmux.wait_for(lambda s: "nothing in flight" in s, "the In flight panel, empty")

        threads = [threading.Thread(target=stream, args=(m,)) for m in (*ENDING, LEAVING)]
        for thread in threads:
            thread.start()
        try:
            screen = tmux.wait_for(
                lambda s: (
                    len(rows(s)) == 3
                    and all(" streaming " in row and "~" in row for row in rows(s))
                    and all(listed(s, name) for name in ("e2e-a", "e2e-b", "e2e-c"))
                ),
                "three slow streams streaming in the In flight panel",
            )
            assert all(" chat " in row and " sim " in row for row in rows(screen))

            leave.set()
            tmux.wait_for(lambda s: not listed(s, "e2e-c"), "the stream whose client left, gone")
            tmux.wait_for(
                lambda s: "nothing in flight" in s and not rows(s),
                "the two streams that ended, gone",
            )
        finally:
            leave.set()
            for thread in threads:
                thread.join(30)
            client.close()
        tmux.press("q")
        tmux.wait_for(lambda s: "EXIT=0" in s, "top to detach")
