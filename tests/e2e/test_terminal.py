"""End to end in a real terminal (tmux): the dashboard over live demo traffic, and back.

The gateway runs as ``llm-gateway serve --dashboard --demo --port 0`` inside a tmux pane;
the test reads the screen with ``capture-pane`` and types with ``send-keys``. After the
gateway exits, the pane's shell prints the exit status and the terminal mode, so the
test can see the terminal was restored (main screen, echo, line mode, cursor).
"""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import psutil
import pytest

from tests.e2e.tmux import Tmux

ROOT = str(Path(__file__).resolve().parents[2])
PANEL_TITLES = (
    "Requests",
    "Latency",
    "Connections",
    "Errors",
    "Tokens",
    "Resources",
    "Models",
    "Log",
)


def start_gateway(
    tmux: Tmux, pid_file: Path, *args: str, width: int = 200, height: int = 60
) -> None:
    gateway = " ".join(
        [sys.executable, "-m", "llm_gateway", "serve", "--demo", "--port", "0", *args]
    )
    tmux.start(
        [
            f"sh -c 'echo $$ > {pid_file}; exec {gateway}'",
            'echo "EXIT=$?"',
            "stty -a",
        ],
        width=width,
        height=height,
        cwd=ROOT,
    )


def figure(screen: str, pattern: str) -> str:
    match = re.search(pattern, screen)
    return match.group(1) if match else ""


def every_panel_titled(screen: str) -> bool:
    """Every panel's title is drawn (the lower-left one's starts a strip of names)."""
    return all(f"─ {title} " in screen for title in PANEL_TITLES)


def dashboard_is_live(screen: str) -> bool:
    """Every panel is there, with figures that only live traffic produces."""
    return (
        every_panel_titled(screen)
        and figure(screen, r"total (\S+)") not in ("", "0")
        and figure(screen, r"p50 (\S+ m?s)") not in ("", "\u2013")
        and "gpt-4o-mini" in screen
        and "POST /v1/" in screen
        and re.search(r"up \d+s", screen) is not None
        and figure(screen, r"errors (\S+)") not in ("", "0")
    )


def plain_logs_shown(screen: str) -> bool:
    return "llm_gateway.access: POST /v1/" in screen and "─ Requests ─" not in screen


def assert_terminal_restored(tmux: Tmux, screen: str) -> None:
    assert "EXIT=0" in screen
    modes = screen[screen.index("EXIT=0") :]
    for flag in ("echo", "icanon", "isig"):
        assert re.search(rf"(?<![-\w]){flag}\b", modes), f"{flag} is off after exit"
    assert tmux.pane("alternate_on") == "0"
    assert tmux.pane("cursor_flag") == "1"


def test_dashboard_toggles_with_plain_logs_and_q_quits(tmux: Tmux, tmp_path: Path) -> None:
    start_gateway(tmux, tmp_path / "pid", "--dashboard")
    tmux.wait_for(dashboard_is_live, "every panel with live figures")
    assert tmux.pane("alternate_on") == "1"

    for _ in range(2):
        tmux.press("d")
        tmux.wait_for(plain_logs_shown, "plain log lines")
        assert tmux.pane("alternate_on") == "0"
        tmux.press("d")
        tmux.wait_for(dashboard_is_live, "the dashboard again")
        assert tmux.pane("alternate_on") == "1"

    tmux.press("q")
    screen = tmux.wait_for(lambda s: "EXIT=" in s and "min = " in s, "the gateway to exit")
    # In the scrollback: the log printed on quit can push it off the screen.
    assert "listening on http://127.0.0.1:" in tmux.scrollback()
    assert_terminal_restored(tmux, screen)


def log_a_request(screen: str, model: str) -> None:
    """Make the gateway on ``screen`` log an access line with ``model`` in it."""
    port = figure(screen, r"http://127\.0\.0\.1:(\d+)")
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/v1/chat/completions",
        data=json.dumps({"model": model, "messages": [{"role": "user", "content": "hi"}]}).encode(),
        headers={"content-type": "application/json", "authorization": "Bearer sk-demo"},
    )
    with urllib.request.urlopen(request, timeout=10) as reply:
        assert reply.status == 200


def access_lines(text: str, model: str) -> int:
    return text.count(f"llm_gateway.access: POST /v1/chat/completions model={model} ")


def find_in_log_panel(tmux: Tmux, model: str, what: str) -> None:
    """Filter the log panel for ``model``'s access line until it shows, then clear the filter."""
    tmux.press("/", *model)
    tmux.wait_for(lambda s: f"filter: {model} " in s and f"model={model}" in s, what)
    tmux.press("Escape")
    # The next key must not arrive while Escape may still start a sequence.
    tmux.wait_for(lambda s: "filter:" not in s, "the filter to close")


def test_the_log_survives_every_switch_of_view_and_the_quit(tmux: Tmux, tmp_path: Path) -> None:
    """A line logged under the dashboard reaches plain view; one logged in plain view shows
    in the log panel; and after ``q`` the scrollback holds each exactly once."""
    start_gateway(tmux, tmp_path / "pid", "--dashboard", width=160, height=45)
    screen = tmux.wait_for(dashboard_is_live, "every panel with live figures")
    under_dashboard, in_plain, before_quit = (f"marker-{n}-{uuid.uuid4().hex[:6]}" for n in "abc")

    log_a_request(screen, under_dashboard)
    find_in_log_panel(tmux, under_dashboard, "the line in the log panel")
    tmux.press("d")
    tmux.wait_for(
        lambda s: "─ Requests ─" not in s and access_lines(tmux.scrollback(), under_dashboard) > 0,
        "the line logged under the dashboard, in plain view",
    )
    log_a_request(screen, in_plain)
    tmux.wait_for(lambda s: access_lines(s, in_plain) == 1, "a line logged in plain view")

    tmux.press("d")
    tmux.wait_for(dashboard_is_live, "the dashboard again")
    find_in_log_panel(tmux, in_plain, "the plain view's line in the log panel")
    log_a_request(screen, before_quit)
    find_in_log_panel(tmux, before_quit, "the last line in the log panel")
    tmux.press("q")

    tmux.wait_for(lambda s: "EXIT=" in s and "min = " in s, "the gateway to exit")
    scrollback = tmux.scrollback()
    for model in (under_dashboard, in_plain, before_quit):
        assert access_lines(scrollback, model) == 1, model
    assert scrollback.index(f"model={before_quit}") < scrollback.index("stopping: in-flight")


def test_sigterm_shuts_down_and_restores_the_terminal(tmux: Tmux, tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    start_gateway(tmux, pid_file, "--dashboard")
    tmux.wait_for(dashboard_is_live, "every panel with live figures")
    os.kill(int(pid_file.read_text()), signal.SIGTERM)
    screen = tmux.wait_for(lambda s: "EXIT=" in s and "min = " in s, "the gateway to exit")
    assert "stopped" in screen
    assert_terminal_restored(tmux, screen)


def test_the_dashboard_draws_at_idle_priority_and_workers_serve_at_normal(
    tmux: Tmux, tmp_path: Path
) -> None:
    """Also a worker started after the console went idle: it would inherit idle from it."""
    pid_file = tmp_path / "pid"
    start_gateway(tmux, pid_file, "--dashboard")
    tmux.wait_for(dashboard_is_live, "every panel with live figures")
    supervisor = psutil.Process(int(pid_file.read_text()))
    assert os.sched_getscheduler(supervisor.pid) == os.SCHED_IDLE
    [first] = supervisor.children()
    assert os.sched_getscheduler(first.pid) == os.SCHED_OTHER

    first.kill()
    deadline = time.monotonic() + 20
    while not (restarted := [w for w in supervisor.children() if w.pid != first.pid]):
        assert time.monotonic() < deadline, "no worker was started in place of the killed one"
        time.sleep(0.05)
    assert os.sched_getscheduler(restarted[0].pid) == os.SCHED_OTHER
    tmux.wait_for(lambda s: "worker 1 died" in s, "the restart in the log panel")

    tmux.press("q")
    screen = tmux.wait_for(lambda s: "EXIT=" in s and "min = " in s, "the gateway to exit")
    assert_terminal_restored(tmux, screen)


def test_dashboard_priority_normal_keeps_the_console_at_normal_priority(
    tmux: Tmux, tmp_path: Path
) -> None:
    pid_file = tmp_path / "pid"
    start_gateway(tmux, pid_file, "--dashboard", "--dashboard-priority", "normal")
    tmux.wait_for(dashboard_is_live, "every panel with live figures")
    assert os.sched_getscheduler(int(pid_file.read_text())) == os.SCHED_OTHER
    tmux.press("q")
    screen = tmux.wait_for(lambda s: "EXIT=" in s and "min = " in s, "the gateway to exit")
    assert_terminal_restored(tmux, screen)


def test_without_dashboard_flag_plain_comes_first_and_d_shows_it(
    tmux: Tmux, tmp_path: Path
) -> None:
    start_gateway(tmux, tmp_path / "pid", width=120, height=40)
    tmux.wait_for(plain_logs_shown, "plain log lines")
    tmux.press("d")
    tmux.wait_for(dashboard_is_live, "the dashboard")
    tmux.press("C-c")
    screen = tmux.wait_for(lambda s: "EXIT=" in s and "min = " in s, "the gateway to exit")
    assert_terminal_restored(tmux, screen)


def test_escape_sequences_from_upstream_never_reach_the_terminal(tmux: Tmux) -> None:
    """A model name and a log message that try to clear the screen and retitle the window."""
    tmux.start([f"{sys.executable} -m tests.dashboard.fake_app"], width=200, height=60, cwd=ROOT)
    title = tmux.pane("pane_title")
    screen = tmux.wait_for(lambda s: "─ Models " in s and "title" in s, "the dashboard")
    assert r"[b]m[/b]\x1b[2J\x07" in screen
    assert r"[link=http://x]markup[/link] \x1b]2;title\x07" in screen.replace("\n", "")
    assert "─ Requests ─" in screen, "nothing cleared the screen"
    assert tmux.pane("pane_title") == title

    # A burst (as pasted): the keys behind ``/`` go into the filter, even q and d.
    tmux.press("/quad", "Enter")
    tmux.wait_for(lambda s: "filter: quad" in s, "the filter")
    tmux.press("q")
    tmux.wait_for(lambda s: "─ Models " not in s, "the app to quit")


def test_a_crash_inside_the_dashboard_restores_the_terminal_and_falls_back_to_plain(
    tmux: Tmux,
) -> None:
    tmux.start(
        [f"{sys.executable} -m tests.e2e.crashing_console", 'echo "EXIT=$?"', "stty -a"],
        width=120,
        height=40,
        cwd=ROOT,
    )
    tmux.wait_for(lambda s: "the dashboard stopped after the error above" in s, "the fallback")
    tmux.wait_for(lambda s: re.search(r"line \d{4}", s) is not None, "plain log lines")
    assert "RuntimeError" in tmux.screen()
    assert tmux.pane("alternate_on") == "0"
    tmux.press("q")
    screen = tmux.wait_for(lambda s: "EXIT=" in s and "min = " in s, "the console to end")
    assert_terminal_restored(tmux, screen)


@pytest.mark.parametrize("view", ["dashboard", "plain"])
def test_sighup_shuts_down_and_restores_the_terminal(tmux: Tmux, tmp_path: Path, view: str) -> None:
    """What a closed ssh session or terminal sends: a graceful stop, like SIGTERM."""
    pid_file = tmp_path / "pid"
    if view == "dashboard":
        start_gateway(tmux, pid_file, "--dashboard")
        tmux.wait_for(every_panel_titled, "every panel")
        assert tmux.pane("alternate_on") == "1"
    else:
        start_gateway(tmux, pid_file, width=120, height=40)
        tmux.wait_for(plain_logs_shown, "plain log lines")
    os.kill(int(pid_file.read_text()), signal.SIGHUP)
    screen = tmux.wait_for(lambda s: "EXIT=" in s and "min = " in s, "the gateway to exit")
    assert "stopped" in screen
    assert_terminal_restored(tmux, screen)


@pytest.mark.parametrize("view", ["dashboard", "plain after the dashboard"])
def test_a_terminal_that_goes_away_stops_the_gateway_gracefully(
    tmux: Tmux, tmp_path: Path, view: str
) -> None:
    """A closed ssh session: the terminal vanishes and SIGHUP and SIGCONT follow. Every
    write to the dead terminal fails, and the gateway must still drain its workers and
    exit, whichever view was showing (a hidden dashboard must not come back for SIGCONT)."""
    pid_file = tmp_path / "pid"
    start_gateway(tmux, pid_file, "--dashboard")
    tmux.wait_for(every_panel_titled, "every panel")
    if view != "dashboard":
        tmux.press("d")
        tmux.wait_for(plain_logs_shown, "plain log lines")
    gateway = psutil.Process(int(pid_file.read_text()))
    workers = gateway.children()
    assert workers
    tmux.close()
    _, alive = psutil.wait_procs([gateway, *workers], timeout=30)
    for process in alive:
        process.kill()
    assert not alive, f"still running after the terminal closed: {alive}"
