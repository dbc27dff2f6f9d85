"""Start a server under test on its own CPU, learn where it listens, measure it, stop it.

Every server is started with ``--port 0`` (or its equivalent) and found by the listening
socket its process tree opens, so no port is ever guessed and nothing depends on what a
server prints: the gateway with its dashboard draws a screen, not a log line.

A server meant to run "in a real terminal" is started inside a detached tmux session on
a private tmux socket, so it never touches the user's own tmux server.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

TMUX_SOCKET = "llm-gateway-bench"
TMUX_SIZE = ("200", "60")
START_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0


class ServerFailed(Exception):
    """A server did not start, or died; the message ends with what it printed."""


@dataclass
class Server:
    name: str
    process: psutil.Process
    base_url: str
    log_path: Path
    popen: subprocess.Popen[bytes] | None = None
    tmux_session: str | None = None

    def tree(self) -> list[psutil.Process]:
        try:
            return [self.process, *self.process.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def cpu_seconds(self) -> float:
        """The user and system CPU time of every process in the tree so far, summed."""
        total = 0.0
        for process in self.tree():
            with contextlib.suppress(psutil.NoSuchProcess):
                times = process.cpu_times()
                total += times.user + times.system
        return total

    def peak_rss_bytes(self) -> int:
        """The peak resident set size of every process in the tree, summed (``VmHWM``)."""
        return sum(_high_water_mark(process.pid) for process in self.tree())

    def stop(self) -> None:
        """SIGTERM the server as a user would, wait, SIGKILL whatever of its tree is left.

        Only the top process is signalled: a supervisor stops its own workers, and one
        that saw a worker die of our signal first might start another behind our back.
        """
        if self.tmux_session is not None:
            capture_screen(self.tmux_session, self.log_path)
        processes = self.tree()
        _signal(self.process, signal.SIGTERM)
        _, alive = psutil.wait_procs(processes, timeout=STOP_TIMEOUT)
        for process in alive:
            _signal(process, signal.SIGKILL)
        psutil.wait_procs(alive, timeout=STOP_TIMEOUT)
        if self.popen is not None:
            self.popen.wait(STOP_TIMEOUT)
        if self.tmux_session is not None:
            tmux("kill-session", "-t", self.tmux_session, check=False)


def pinned(cpu: int | None, argv: Sequence[str]) -> list[str]:
    """``argv`` run on one CPU only (``taskset`` execs, so the pid stays the server's)."""
    return list(argv) if cpu is None else ["taskset", "-c", str(cpu), *argv]


def start_process(
    name: str, argv: Sequence[str], *, env: Mapping[str, str], log_path: Path
) -> Server:
    """Start ``argv`` with its output in ``log_path`` and return it once it listens."""
    with log_path.open("wb") as log:
        popen = subprocess.Popen(
            list(argv), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env
        )
    server = Server(name, psutil.Process(popen.pid), "", log_path, popen=popen)
    return _until_listening(server)


def start_in_tmux(
    name: str, argv: Sequence[str], *, env: Mapping[str, str], log_path: Path
) -> Server:
    """Start ``argv`` in the only pane of a new detached tmux session, 200x60.

    The pane's shell lingers a second after ``argv`` ends, so that tmux has read its
    last words (a crash at start-up) before :func:`capture_screen` keeps them. The tmux
    server outlives its last session (``exit-empty off``): otherwise a session started
    right after another one ended may reach a server on its way out, and fail.
    """
    session = f"{name}-{os.getpid()}"
    width, height = TMUX_SIZE
    tmux_env = {key: value for key, value in env.items() if key != "TMUX"}
    command = shlex.join(argv) + "; status=$?; sleep 1; exit $status"
    new_session = ["new-session", "-d", "-s", session, "-x", width, "-y", height, command]
    tmux(*new_session, ";", "set-option", "-g", "exit-empty", "off", env=tmux_env)
    pane = psutil.Process(int(tmux("list-panes", "-t", session, "-F", "#{pane_pid}")))
    server = Server(name, pane, "", log_path, tmux_session=session)
    try:
        server.process = _only_child(pane)
    except ServerFailed:
        server.stop()
        raise
    return _until_listening(server)


def wait_for_full_screen(server: Server) -> None:
    """Wait until the program in the tmux pane of ``server`` draws on the alternate screen.

    The gateway's console starts only once every worker serves, so with ``--dashboard``
    this is the moment its dashboard is up and its workers all started.
    """
    session = server.tmux_session
    assert session is not None, f"{server.name} is not running in tmux"
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if not _alive(server.process):
            capture_screen(session, server.log_path)
            raise ServerFailed(f"{server.name} exited at start-up:\n{_tail(server.log_path)}")
        if tmux("display-message", "-p", "-t", session, "#{alternate_on}", check=False) == "1\n":
            return
        time.sleep(0.05)
    raise ServerFailed(f"{server.name} drew no full screen within {START_TIMEOUT:.0f} s")


def pin_children(server: Server, cpu: int) -> None:
    """Move every process under the server's top one, and each of its threads, to ``cpu``.

    Each thread has its own affinity (``sched_setaffinity`` of a pid moves only the
    thread of that id), and one started before the move would stay behind.
    """
    try:
        children = server.process.children(recursive=True)
        if not children:
            raise ServerFailed(f"{server.name} has no worker process to pin")
        for child in children:
            for thread in child.threads():
                # A thread may end between the listing and the move.
                with contextlib.suppress(ProcessLookupError):
                    os.sched_setaffinity(thread.id, {cpu})
    except psutil.NoSuchProcess as exc:
        raise ServerFailed(f"{server.name} lost a process while it was pinned: {exc}") from exc


def _only_child(shell: psutil.Process) -> psutil.Process:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        children = shell.children() if _alive(shell) else []
        if children:
            return children[0]
        if not _alive(shell):
            break
        time.sleep(0.01)
    raise ServerFailed("the tmux pane's shell started nothing")


def tmux(*args: str, env: Mapping[str, str] | None = None, check: bool = True) -> str:
    result = subprocess.run(
        ["tmux", "-L", TMUX_SOCKET, "-f", "/dev/null", *args],
        capture_output=True,
        text=True,
        env=None if env is None else dict(env),
        check=False,
    )
    if check and result.returncode != 0:
        raise ServerFailed(f"tmux {args[0]} failed: {result.stderr.strip()}")
    return result.stdout


def stop_tmux_server() -> None:
    """End the private tmux server, if this run started one."""
    tmux("kill-server", check=False)


def capture_screen(session: str, log_path: Path, patience: float = 1.0) -> None:
    """Keep the pane's screen next to the other logs (the dashboard, or its crash).

    tmux draws what a process wrote a moment after it wrote it, so an empty screen is
    read again until something shows or ``patience`` runs out.
    """
    deadline = time.monotonic() + patience
    while True:
        screen = tmux("capture-pane", "-p", "-S", "-", "-t", session, check=False)
        if screen.strip() or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    if screen.strip():
        log_path.write_text(screen.rstrip() + "\n", encoding="utf-8")


def _until_listening(server: Server) -> Server:
    try:
        server.base_url = _wait_for_listener(server)
    except BaseException:
        server.stop()
        raise
    return server


def _wait_for_listener(server: Server) -> str:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if not _alive(server.process):
            if server.tmux_session is not None:
                capture_screen(server.tmux_session, server.log_path)
            raise ServerFailed(f"{server.name} exited at start-up:\n{_tail(server.log_path)}")
        for process in server.tree():
            address = _loopback_listener(process)
            if address is not None:
                return address
        time.sleep(0.05)
    raise ServerFailed(f"{server.name} did not listen within {START_TIMEOUT:.0f} s")


def _alive(process: psutil.Process) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _loopback_listener(process: psutil.Process) -> str | None:
    try:
        connections = process.net_connections(kind="tcp4")
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None
    for connection in connections:
        if connection.status == psutil.CONN_LISTEN and connection.laddr.ip == "127.0.0.1":
            return f"http://127.0.0.1:{connection.laddr.port}"
    return None


def _high_water_mark(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def _signal(process: psutil.Process, sig: int) -> None:
    with contextlib.suppress(psutil.NoSuchProcess):
        process.send_signal(sig)


def _tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no output)"
    return "\n".join(text.rstrip().splitlines()[-lines:]) or "(no output)"
