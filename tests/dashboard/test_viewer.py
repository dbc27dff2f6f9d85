"""The dashboard as ``llm-gateway top`` runs it: over a control socket, as a viewer.

A real :class:`ControlServer` serves the fixed figures of :mod:`.fakes` on a Unix socket
in the test's own loop, and the app draws a :class:`RemoteFeed` attached to it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC
from pathlib import Path

import pytest

from llm_gateway.dashboard import remote
from llm_gateway.dashboard.app import DashboardApp
from llm_gateway.dashboard.help import HelpScreen
from llm_gateway.dashboard.remote import AttachError, RemoteFeed
from llm_gateway.supervisor.control import ControlServer, bind_control_socket
from tests.dashboard.fakes import FakeFeed, fixed_logs, fixed_snapshot
from tests.dashboard.polling import until


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[FakeFeed, Path]]:
    feed = FakeFeed()
    feed.queue(fixed_logs())
    path = tmp_path / "gw.sock"
    server = ControlServer(bind_control_socket(path, default_location=False), feed)
    await server.start()
    yield feed, path
    await server.close("test over")


async def test_the_remote_feed_holds_what_the_gateway_has(
    served: tuple[FakeFeed, Path],
) -> None:
    feed, path = served
    remote = await RemoteFeed.attach(path)
    assert (remote.version, remote.listen_url, remote.log_level) == (
        feed.version,
        feed.listen_url,
        feed.log_level,
    )
    # Fifteen minutes of series and every kind of field, back equal after the socket.
    assert remote.snapshot() == fixed_snapshot()
    assert remote.log_reader(back=1000).read().lines == feed.log_reader(back=1000).read().lines
    remote.close()


async def test_a_viewer_detaches_and_is_offered_no_plain_view(
    served: tuple[FakeFeed, Path],
) -> None:
    _, path = served
    remote = await RemoteFeed.attach(path)
    app = DashboardApp(remote, tz=UTC, owns_gateway=False)
    async with app.run_test(size=(120, 40)) as pilot:
        shown = {key: b.binding.action for key, b in app.screen.active_bindings.items()}
        assert shown["q"] == shown["escape"] == shown["ctrl+c"] == "detach"
        assert "d" not in shown
        await pilot.press("d")
        assert app.is_running and app.return_value is None

        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.pause()
        text = app.export_screenshot().replace("&#160;", " ")
        assert "detach: the gateway keeps running" in text
        assert "shuts down" not in text and "plain log lines" not in text
        await pilot.press("question_mark")

        await pilot.press("q")
    assert app.return_value == "quit"
    remote.close()


async def test_following_ends_with_the_gateways_goodbye(tmp_path: Path) -> None:
    feed = FakeFeed()
    path = tmp_path / "gw.sock"
    server = ControlServer(bind_control_socket(path, default_location=False), feed, interval_s=0.01)
    await server.start()
    remote = await RemoteFeed.attach(path)
    following = asyncio.create_task(remote.follow())
    calls = feed.snapshot_calls
    await until(lambda: feed.snapshot_calls > calls + 2, what="live updates")
    await server.close("the gateway at x stopped")
    bye = await asyncio.wait_for(following, 10)
    assert bye.reason == "the gateway at x stopped" and bye.gateway_stopped
    remote.close()


async def test_attaching_where_no_gateway_runs_says_so(tmp_path: Path) -> None:
    with pytest.raises(
        AttachError, match=f"no gateway is running with the control socket {tmp_path}"
    ):
        await RemoteFeed.attach(tmp_path / "none.sock")


async def test_a_socket_that_never_answers_is_not_waited_on_forever(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(remote, "ANSWER_TIMEOUT_S", 0.05)
    path = tmp_path / "mute.sock"
    mute = await asyncio.start_unix_server(lambda r, w: None, path=str(path))
    with pytest.raises(AttachError, match="is it a gateway's socket"):
        await RemoteFeed.attach(path)
    mute.close()


async def test_a_gateway_that_vanishes_ends_following_with_a_reason(tmp_path: Path) -> None:
    path = tmp_path / "gw.sock"
    server = ControlServer(bind_control_socket(path, default_location=False), FakeFeed())
    await server.start()
    remote = await RemoteFeed.attach(path)
    for viewer in list(server._viewers):
        viewer.writer.transport.abort()  # as if the gateway were killed
    bye = await asyncio.wait_for(remote.follow(), 10)
    assert bye.reason == "the gateway at http://127.0.0.1:8000 closed the connection"
    assert not bye.gateway_stopped
    remote.close()
    await server.close("test over")
