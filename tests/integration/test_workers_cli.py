"""``llm-gateway serve`` as users run it: plain logs, shutdown, a dying supervisor, flags."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time

import openai
import psutil

from tests.processes import gateway_command, running

ACCESS = re.compile(r" (?:INFO) +(w\d) llm_gateway\.access: .* model=(\S+) status=(\d+)")


def test_plain_mode_prints_every_line_once_in_order_and_loses_none_at_shutdown() -> None:
    with running(["serve", "--port", "0", "--workers", "2", "--grace-period", "5"]) as server:
        client = openai.OpenAI(base_url=f"{server.base_url}/v1", api_key="-", max_retries=0)
        for n in range(40):
            client.chat.completions.create(
                model=f"seq-{n:02d}+tokens=1", messages=[{"role": "user", "content": "hi"}]
            )
        stream = client.chat.completions.create(
            model="last+tokens=20+tps=20",
            messages=[{"role": "user", "content": "hi"}],
            stream=True,
        )
        chunks = iter(stream)
        next(chunks)
        # In flight now; the shutdown must let it finish and keep its log line.
        server.process.send_signal(signal.SIGTERM)
        rest = list(chunks)
        assert rest[-1].choices[0].finish_reason == "stop"
        assert server.process.wait(20) == 0
        client.close()

    output = "".join(server.output)
    access = [match.groups() for match in ACCESS.finditer(output)]
    models = [model for _, model, _ in access]
    assert sorted(models) == sorted(
        [f"seq-{n:02d}+tokens=1" for n in range(40)] + ["last+tokens=20+tps=20"]
    )
    for worker in {worker for worker, _, _ in access}:
        mine = [model for w, model, _ in access if w == worker and model.startswith("seq-")]
        assert mine == sorted(mine), f"{worker} printed out of order"
    assert ("last+tokens=20+tps=20", "200") in [(model, status) for _, model, status in access]
    assert output.rstrip().endswith("llm_gateway.supervisor: stopped")


def test_a_stop_from_gnu_timeout_lets_a_stream_finish() -> None:
    """``timeout`` sends its signal to the gateway and then to its process group: the
    second copy must not be taken for an impatient second signal (test_stop_signals)."""
    process = subprocess.Popen(
        ["timeout", "-s", "TERM", "120", *gateway_command("serve", "--port", "0")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    try:
        lines = []
        for line in process.stdout:
            lines.append(line)
            if "listening on" in line:
                break
        (url,) = re.findall(r"listening on (http://\S+)", lines[-1])
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="-", max_retries=0)
        stream = client.chat.completions.create(
            model="last+tokens=20+tps=10", messages=[{"role": "user", "content": "hi"}], stream=True
        )
        chunks = iter(stream)
        next(chunks)
        # What timeout does when its time is up, it does at once when signalled itself.
        process.send_signal(signal.SIGTERM)
        rest = list(chunks)
        assert rest[-1].choices[0].finish_reason == "stop"
        client.close()
        process.wait(30)
        output = "".join(lines) + process.stdout.read()
    finally:
        if process.poll() is None:
            # timeout leads a process group of its own: the gateway's supervisor is in it.
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)
        process.stdout.close()
    assert "stopping at once" not in output
    assert "worker 1 stopped (exit status 0)" in output


# A supervisor killed with SIGKILL leaves its control socket behind: these open none.


def test_workers_exit_when_the_supervisor_dies() -> None:
    with running(["serve", "--port", "0", "--workers", "2", "--no-control-socket"]) as server:
        workers = psutil.Process(server.process.pid).children()
        assert len(workers) == 2
        server.process.kill()
        _, alive = psutil.wait_procs(workers, timeout=15)
        assert alive == []


def test_workers_exit_when_the_supervisor_dies_with_their_reports_unread() -> None:
    """Linux resets, rather than closes, a socket closed with unread data in it."""
    with running(["serve", "--port", "0", "--workers", "2", "--no-control-socket"]) as server:
        supervisor = psutil.Process(server.process.pid)
        workers = supervisor.children()
        supervisor.suspend()
        # With no requests, a worker writes only its reports: once each has written
        # again, a report waits unread in the stopped supervisor's socket.
        written = [worker.io_counters().write_chars for worker in workers]
        deadline = time.monotonic() + 10
        while any(w.io_counters().write_chars == n for w, n in zip(workers, written, strict=True)):
            assert time.monotonic() < deadline, "a worker sent no report"
            time.sleep(0.05)
        supervisor.kill()
        _, alive = psutil.wait_procs(workers, timeout=15)
        for worker in alive:
            worker.kill()
        assert alive == []


def test_demo_mode_sends_traffic_to_itself() -> None:
    with running(["serve", "--port", "0", "--demo"]) as server:
        server.wait_for_output("clients use the API key sk-demo")
        server.wait_for_output("llm_gateway.access")
        assert server.stop() == 0


def test_dashboard_without_a_terminal_is_refused() -> None:
    result = subprocess.run(
        gateway_command("serve", "--dashboard", "--port", "0"),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert "--dashboard needs a terminal" in result.stderr


def _policy_becomes(pid: int, policy: int, within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while os.sched_getscheduler(pid) != policy:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_a_headless_supervisor_works_at_idle_priority_and_its_workers_at_normal() -> None:
    """Writing the access lines on a worker's CPU at normal priority doubled its p99."""
    with running(["serve", "--port", "0"]) as server:
        supervisor = psutil.Process(server.process.pid)
        assert _policy_becomes(supervisor.pid, os.SCHED_IDLE)
        [worker] = supervisor.children()
        assert os.sched_getscheduler(worker.pid) == os.SCHED_OTHER


def test_supervisor_priority_normal_keeps_a_headless_supervisor_at_normal_priority() -> None:
    with running(["serve", "--port", "0", "--supervisor-priority", "normal"]) as server:
        openai.OpenAI(base_url=f"{server.base_url}/v1", api_key="-").models.list()
        assert not _policy_becomes(server.process.pid, os.SCHED_IDLE, within=0.5)
