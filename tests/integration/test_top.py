"""The control socket of a real gateway, and ``llm-gateway top`` where no terminal is needed.

What needs a terminal (the dashboard attached, detaching, the gateway stopping under it)
is in ``tests/e2e/test_top.py``.
"""

from __future__ import annotations

import asyncio
import os
import pty
import socket
import stat
import subprocess
from pathlib import Path

import httpx

from llm_gateway.control.wire import MAX_FRAME_BYTES, PROTOCOL, Attach, Bye, encode, read_message
from llm_gateway.dashboard.remote import RemoteFeed
from tests.dashboard.polling import until
from tests.processes import gateway_command, running

LOAD_REQUESTS = 300


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        gateway_command(*args),
        capture_output=True,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
    )


def test_serve_opens_a_private_socket_in_the_runtime_directory_and_removes_it(
    tmp_path: Path,
) -> None:
    env = {"XDG_RUNTIME_DIR": str(tmp_path)}
    with running(["serve", "--port", "0"], env=env) as gateway:
        port = gateway.base_url.rsplit(":", 1)[1]
        path = tmp_path / "llm-gateway" / f"{port}.sock"
        assert f"control: {path})" in gateway.wait_for_output("listening on")
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        assert stat.S_IMODE(path.lstat().st_mode) == 0o600
    assert not path.exists()


def test_a_live_socket_is_refused_and_a_stale_one_replaced(tmp_path: Path) -> None:
    path = tmp_path / "gw.sock"
    with running(["serve", "--port", "0", "--control-socket", str(path)]):
        second = run("serve", "--port", "0", "--control-socket", str(path))
        assert second.returncode == 2
        assert "another gateway is running with the control socket" in second.stderr
    with socket.socket(socket.AF_UNIX) as dead:
        dead.bind(str(path))  # what a gateway killed with SIGKILL leaves behind
    with running(["serve", "--port", "0", "--control-socket", str(path)]) as gateway:
        assert f"control: {path})" in gateway.wait_for_output("listening on")


def test_no_control_socket_opens_none(tmp_path: Path) -> None:
    env = {"XDG_RUNTIME_DIR": str(tmp_path)}
    with running(["serve", "--port", "0", "--no-control-socket"], env=env) as gateway:
        assert "control:" not in gateway.wait_for_output("listening on")
        assert not (tmp_path / "llm-gateway").exists()


def test_top_needs_a_terminal() -> None:
    result = run("top")
    assert result.returncode == 2
    assert "needs a terminal" in result.stderr


def test_top_where_no_gateway_runs_says_where_it_looked(tmp_path: Path) -> None:
    # A pseudo-terminal for top, so what is tested is the missing gateway.
    ours, theirs = pty.openpty()
    with os.fdopen(ours, "rb") as terminal:
        status = subprocess.run(
            gateway_command("top", "--port", "1"),
            stdin=theirs,
            stdout=theirs,
            stderr=theirs,
            timeout=30,
            env={**os.environ, "XDG_RUNTIME_DIR": str(tmp_path)},
        ).returncode
        os.close(theirs)
        said = terminal.read1(65536).decode()
    assert status == 1
    assert f"no gateway is running with the control socket {tmp_path}/llm-gateway/1.sock" in said


async def test_a_stalled_viewer_is_dropped_under_load_and_another_keeps_up(
    tmp_path: Path,
) -> None:
    path = tmp_path / "gw.sock"
    args = ["serve", "--port", "0", "--control-socket", str(path), "--viewer-buffer", "16K"]
    with running(args) as gateway:
        stalled = socket.socket(socket.AF_UNIX)
        stalled.connect(str(path))
        stalled.sendall(encode(Attach(PROTOCOL)))
        lively = await RemoteFeed.attach(path)
        following = asyncio.create_task(lively.follow())
        try:
            async with httpx.AsyncClient(base_url=gateway.base_url, timeout=30) as client:
                body = {"model": "sim", "messages": [{"role": "user", "content": "hi"}]}
                for _ in range(LOAD_REQUESTS // 20):
                    replies = await asyncio.gather(
                        *(client.post("/v1/chat/completions", json=body) for _ in range(20))
                    )
                    assert [r.status_code for r in replies] == [200] * 20
            await until(
                lambda: lively.snapshot().requests_total == LOAD_REQUESTS,
                within=20,
                what="the lively viewer to count every request",
            )
            gateway.wait_for_output("dropped a viewer of the control socket: it stopped reading")
            assert not following.done(), "the lively viewer was dropped too"
        finally:
            following.cancel()
            lively.close()

        stalled.setblocking(False)
        reader, writer = await asyncio.open_unix_connection(sock=stalled, limit=MAX_FRAME_BYTES)
        last = None
        while (message := await read_message(reader, MAX_FRAME_BYTES)) is not None:
            last = message
        writer.close()
        assert isinstance(last, Bye) and "this viewer fell behind" in last.reason
