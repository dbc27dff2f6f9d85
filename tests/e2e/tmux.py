"""Drive a program in a real terminal: a private tmux server, its screen, its keys.

Each :class:`Tmux` runs its own server (``-L`` with a unique socket name, no user
config), so a test never touches anyone's tmux sessions, and ``close`` ends the server
with every process it started.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import time
import uuid
from collections.abc import Callable, Sequence

COMMAND_TIMEOUT_S = 10.0

# Programs in the pane inherit the server's environment; a COLUMNS or LINES there (pytest
# sets them) would override the pane's real size.
_ENVIRONMENT = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}


class Tmux:
    def __init__(self) -> None:
        self.socket = f"llm-gateway-e2e-{os.getpid()}-{uuid.uuid4().hex[:8]}"

    def _tmux(self, *args: str) -> str:
        result = subprocess.run(
            ["tmux", "-L", self.socket, "-f", "/dev/null", *args],
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT_S,
            check=True,
            env=_ENVIRONMENT,
        )
        return result.stdout

    def start(self, script: Sequence[str], *, width: int, height: int, cwd: str) -> None:
        """Run the shell ``script`` (one command per line) in a ``width`` x ``height`` pane.

        The pane's shell stays alive after the script, so the screen can still be read.
        """
        shell = "\n".join([*script, "exec sleep 3600"])
        self._tmux(
            "new-session",
            "-d",
            "-s",
            "e2e",
            "-x",
            str(width),
            "-y",
            str(height),
            "-c",
            cwd,
            "sh -c " + shlex.quote(shell),
        )

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", "e2e")

    def scrollback(self) -> str:
        """The pane's whole history and screen, wrapped lines joined."""
        return self._tmux("capture-pane", "-p", "-J", "-S", "-", "-t", "e2e")

    def pane(self, variable: str) -> str:
        """A pane format variable, e.g. ``alternate_on`` or ``cursor_flag``."""
        return self._tmux("display-message", "-p", "-t", "e2e", f"#{{{variable}}}").strip()

    def press(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", "e2e", *keys)

    def wait_for(self, condition: Callable[[str], bool], what: str, timeout: float = 20.0) -> str:
        """Poll the screen until ``condition(screen)``; the screen that satisfied it."""
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if condition(screen):
                return screen
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}; the screen shows:\n{screen}")

    def close(self) -> None:
        subprocess.run(
            ["tmux", "-L", self.socket, "kill-server"],
            capture_output=True,
            timeout=COMMAND_TIMEOUT_S,
        )
