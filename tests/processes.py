"""Start real llm-gateway processes for tests, learn their OS-chosen ports, stop them.

Every server binds port 0 and prints ``listening on http://HOST:PORT``; we read that line
instead of guessing a free port. Waiting is a poll with a deadline, never a fixed sleep.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

_LISTENING = re.compile(r"listening on (http://[\w.\[\]:-]+:\d+)")


@dataclass
class RunningServer:
    process: subprocess.Popen[str]
    base_url: str
    output: list[str] = field(default_factory=list)
    """Every stdout/stderr line so far, appended by a reader thread."""

    def wait_for_output(self, needle: str, timeout: float = 10.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.output):
                if needle in line:
                    return line
            if self.process.poll() is not None:
                break
            time.sleep(0.02)
        raise AssertionError(f"{needle!r} not seen; output so far:\n" + "".join(self.output))

    def wait_for_lines(
        self, pattern: str, count: int, timeout: float = 20.0
    ) -> list[re.Match[str]]:
        """The first ``count`` output lines matching ``pattern``, once that many have arrived."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            found = [m for line in list(self.output) if (m := regex.search(line))]
            if len(found) >= count or time.monotonic() > deadline:
                assert len(found) == count, f"{len(found)} lines match {pattern!r}"
                return found
            time.sleep(0.02)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        return self.process.returncode


def gateway_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "llm_gateway", *args]


@contextmanager
def running(
    args: Sequence[str], *, env: dict[str, str] | None = None, timeout: float = 20.0
) -> Iterator[RunningServer]:
    """Run ``llm-gateway ARGS`` with ``--port 0`` semantics and yield it once it listens."""
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    process = subprocess.Popen(
        gateway_command(*args),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        env=full_env,
    )
    server = RunningServer(process=process, base_url="")
    assert process.stdout is not None
    stdout = process.stdout

    def pump() -> None:
        for line in stdout:
            server.output.append(line)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    try:
        line = server.wait_for_output("listening on http://", timeout)
        match = _LISTENING.search(line)
        assert match, line
        server.base_url = match.group(1)
        yield server
    finally:
        server.stop()
        reader.join(5)
        stdout.close()
