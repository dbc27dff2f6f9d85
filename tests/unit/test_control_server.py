"""The supervisor's control socket over real Unix sockets, with a fake feed behind it.

The feed is plain data and a real log history; the viewers are real connections, some
well behaved, some not. Ticks are fast (10 ms) and every wait is a poll with a deadline.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import stat
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from llm_gateway.control.paths import default_socket_path
from llm_gateway.control.wire import (
    MAX_FRAME_BYTES,
    PROTOCOL,
    Attach,
    Bye,
    Hello,
    Message,
    Update,
    encode,
    frame,
    read_message,
)
from llm_gateway.metrics.log_history import LogHistory, LogReader
from llm_gateway.metrics.log_text import format_plain
from llm_gateway.metrics.snapshot import LogLine, Snapshot
from llm_gateway.supervisor.control import (
    ControlServer,
    ControlSocketError,
    bind_control_socket,
)
from tests.dashboard.polling import until

TICK_S = 0.01


class FakeFeed:
    version = "9.9.9"
    listen_url = "http://127.0.0.1:8000"
    log_level = logging.INFO

    def __init__(self) -> None:
        self.history = LogHistory()
        self.snapshots = 0

    def snapshot(self) -> Snapshot:
        self.snapshots += 1
        return Snapshot(requests_total=self.snapshots)

    def log_reader(self, back: int) -> LogReader:
        return self.history.reader(back=back)

    def log(self, message: str) -> None:
        self.history.append(LogLine(1.0, logging.INFO, "test", message))


async def poll(condition: Callable[[], bool], what: str) -> None:
    await until(condition, within=10.0, what=what)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "gw" / "8000.sock"


@pytest.fixture
def feed() -> FakeFeed:
    return FakeFeed()


@pytest.fixture
async def server(path: Path, feed: FakeFeed) -> AsyncIterator[ControlServer]:
    control = ControlServer(
        bind_control_socket(path, default_location=False),
        feed,
        interval_s=TICK_S,
        buffer_bytes=64 << 10,
    )
    await control.start()
    yield control
    await control.close("test over")


class Viewer:
    """A well-behaved viewer that keeps every message it reads."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.messages: list[Message] = []
        self._reading = asyncio.create_task(self._read(reader))

    @classmethod
    async def attach(cls, path: Path) -> Viewer:
        reader, writer = await asyncio.open_unix_connection(path, limit=MAX_FRAME_BYTES)
        writer.write(encode(Attach(PROTOCOL)))
        return cls(reader, writer)

    async def _read(self, reader: asyncio.StreamReader) -> None:
        while (message := await read_message(reader, MAX_FRAME_BYTES)) is not None:
            self.messages.append(message)

    @property
    def updates(self) -> list[Update]:
        return [m for m in self.messages if isinstance(m, Update)]

    def lines(self) -> list[str]:
        return [line.message for u in self.updates for line in u.logs]

    async def ended(self) -> None:
        await asyncio.wait_for(self._reading, 10)

    def detach(self) -> None:
        self.writer.close()
        self._reading.cancel()


def test_the_socket_is_0600_in_a_0700_directory_of_our_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    path = default_socket_path(8000)
    assert path == tmp_path / "llm-gateway" / "8000.sock"
    with bind_control_socket(path, default_location=True):
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        assert stat.S_ISSOCK(path.lstat().st_mode)
        assert stat.S_IMODE(path.lstat().st_mode) == 0o600


def test_our_directory_opened_up_by_someone_is_closed_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    (tmp_path / "llm-gateway").mkdir(mode=0o777)
    os.chmod(tmp_path / "llm-gateway", 0o777)
    with bind_control_socket(default_socket_path(1), default_location=True):
        assert stat.S_IMODE((tmp_path / "llm-gateway").stat().st_mode) == 0o700


def test_without_a_runtime_directory_it_is_a_directory_per_user_in_the_temp_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    assert default_socket_path(8000) == tmp_path / f"llm-gateway-{os.getuid()}" / "8000.sock"


def test_a_stale_socket_is_replaced_and_a_live_one_refused(path: Path) -> None:
    path.parent.mkdir()
    with socket.socket(socket.AF_UNIX) as dead:
        dead.bind(str(path))  # bound, never listening: what a killed gateway leaves
    with (
        bind_control_socket(path, default_location=False),
        pytest.raises(ControlSocketError, match="another gateway is running"),
    ):
        bind_control_socket(path, default_location=False)
    assert path.exists()


def test_a_file_in_the_way_is_left_alone(path: Path) -> None:
    path.parent.mkdir()
    path.write_text("mine")
    with pytest.raises(ControlSocketError, match="exists and is not a socket"):
        bind_control_socket(path, default_location=False)
    assert path.read_text() == "mine"


async def test_a_viewer_gets_the_full_state_then_live_updates(
    server: ControlServer, path: Path, feed: FakeFeed
) -> None:
    feed.log("before attach")
    viewer = await Viewer.attach(path)
    await poll(lambda: len(viewer.updates) >= 1, "the first update")
    hello, first = viewer.messages[:2]
    assert hello == Hello(PROTOCOL, "9.9.9", "http://127.0.0.1:8000", logging.INFO)
    assert isinstance(first, Update) and [ln.message for ln in first.logs] == ["before attach"]
    feed.log("after attach")
    await poll(lambda: "after attach" in viewer.lines(), "the live line")
    assert viewer.lines() == ["before attach", "after attach"]
    totals = [u.snapshot.requests_total for u in viewer.updates]
    assert totals == sorted(totals) and len(set(totals)) == len(totals)
    viewer.detach()


async def test_an_access_line_kept_as_text_reaches_a_viewer_as_its_record(
    server: ControlServer, path: Path, feed: FakeFeed
) -> None:
    access = LogLine(1_800_000_000.25, logging.INFO, "llm_gateway.access", "POST /v1/x", 2)
    feed.history.append(format_plain(access))
    viewer = await Viewer.attach(path)

    await poll(lambda: bool(viewer.updates and viewer.updates[0].logs), "the first update")

    assert viewer.updates[0].logs == (access,)
    viewer.detach()


async def test_each_viewer_reads_every_line_from_its_own_cursor(
    server: ControlServer, path: Path, feed: FakeFeed
) -> None:
    first = await Viewer.attach(path)
    await poll(lambda: server.viewers == 1, "the first viewer")
    feed.log("one")
    second = await Viewer.attach(path)
    await poll(lambda: server.viewers == 2, "the second viewer")
    feed.log("two")
    await poll(lambda: "two" in first.lines() and "two" in second.lines(), "both lines")
    assert first.lines()[-2:] == second.lines()[-2:] == ["one", "two"]
    first.detach()
    second.detach()


async def test_nothing_runs_while_nobody_watches(
    server: ControlServer, path: Path, feed: FakeFeed
) -> None:
    await asyncio.sleep(10 * TICK_S)
    assert feed.snapshots == 0
    viewer = await Viewer.attach(path)
    await poll(lambda: len(viewer.updates) >= 3, "a few updates")
    viewer.detach()
    await poll(lambda: server.viewers == 0, "the viewer to leave")
    taken = feed.snapshots
    await asyncio.sleep(10 * TICK_S)
    assert feed.snapshots == taken


@pytest.mark.parametrize(
    "garbage",
    [
        b"GET / HTTP/1.1\r\n\r\n",  # a length of 1.2 GB: refused unread
        frame(b"not json"),
        frame(b'["update", {}]'),
        encode(Bye("i am no gateway")),
        encode(Attach(PROTOCOL))[:-2],  # truncated, then the client leaves
    ],
)
async def test_garbage_drops_that_client_and_the_others_carry_on(
    server: ControlServer,
    path: Path,
    feed: FakeFeed,
    garbage: bytes,
    caplog: pytest.LogCaptureFixture,
) -> None:
    viewer = await Viewer.attach(path)
    await poll(lambda: server.viewers == 1, "the good viewer")
    reader, writer = await asyncio.open_unix_connection(path)
    writer.write(garbage)
    writer.write_eof()
    assert await asyncio.wait_for(reader.read(), 10) == b"", "the server answered garbage"
    writer.close()
    assert "dropped a client of the control socket" in caplog.text
    feed.log("still here")
    await poll(lambda: "still here" in viewer.lines(), "the good viewer's next line")
    assert server.viewers == 1
    viewer.detach()


async def test_bytes_after_attaching_drop_the_viewer(
    server: ControlServer, path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    viewer = await Viewer.attach(path)
    await poll(lambda: server.viewers == 1, "the viewer")
    viewer.writer.write(b"\x00")
    await viewer.ended()
    assert server.viewers == 0
    assert "it sent bytes after attaching" in caplog.text


async def test_a_viewer_that_leaves_without_reading_is_forgotten(
    server: ControlServer, path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    lively = await Viewer.attach(path)
    gone = socket.socket(socket.AF_UNIX)
    gone.connect(str(path))
    gone.sendall(encode(Attach(PROTOCOL)))
    await poll(lambda: server.viewers == 2, "both viewers")
    gone.close()  # with updates unread: the next write to it breaks the pipe
    await poll(lambda: server.viewers == 1, "the gone viewer to be forgotten")
    count = len(lively.updates)
    await poll(lambda: len(lively.updates) > count + 3, "the other viewer's updates")
    assert "a viewer detached (1 still attached)" in caplog.text
    assert "socket.send() raised exception" not in caplog.text
    lively.detach()


async def test_another_protocol_is_told_to_use_the_same_version(
    server: ControlServer, path: Path
) -> None:
    reader, writer = await asyncio.open_unix_connection(path)
    writer.write(encode(Attach(PROTOCOL + 1)))
    bye = await read_message(reader, MAX_FRAME_BYTES)
    assert isinstance(bye, Bye) and "use the same llm-gateway version" in bye.reason
    assert await read_message(reader, MAX_FRAME_BYTES) is None
    writer.close()
    assert server.viewers == 0


async def test_a_stalled_viewer_is_dropped_and_told_why_while_another_keeps_up(
    server: ControlServer, path: Path, feed: FakeFeed, caplog: pytest.LogCaptureFixture
) -> None:
    stalled = socket.socket(socket.AF_UNIX)
    stalled.connect(str(path))
    stalled.sendall(encode(Attach(PROTOCOL)))
    lively = await Viewer.attach(path)
    await poll(lambda: server.viewers == 2, "both viewers")

    line = "x" * 8192
    while server.viewers == 2:
        feed.log(line)
        await asyncio.sleep(TICK_S)
    assert "it stopped reading" in caplog.text
    feed.log("after the drop")
    await poll(lambda: "after the drop" in lively.lines(), "the lively viewer's next line")
    assert lively.lines().count(line) == feed.history.end - 1

    # The stalled one, reading at last, finds what was queued and then why it was dropped.
    stalled.setblocking(False)
    reader, writer = await asyncio.open_unix_connection(sock=stalled, limit=MAX_FRAME_BYTES)
    messages = []
    while (message := await read_message(reader, MAX_FRAME_BYTES)) is not None:
        messages.append(message)
    writer.close()
    bye = messages[-1]
    assert isinstance(bye, Bye) and "this viewer fell behind" in bye.reason
    assert not bye.gateway_stopped
    lively.detach()


async def test_a_burst_larger_than_the_buffer_does_not_drop_a_viewer_that_reads(
    server: ControlServer, path: Path, feed: FakeFeed
) -> None:
    viewer = await Viewer.attach(path)
    await poll(lambda: server.viewers == 1, "the viewer")
    for n in range(40):
        feed.log(f"{n:02} " + "x" * 8192)  # 320 kB in one update; the buffer is 64 kB
    await poll(lambda: len(viewer.lines()) == 40, "the whole burst")
    feed.log("after the burst")
    await poll(lambda: "after the burst" in viewer.lines(), "the next line")
    assert server.viewers == 1


async def test_closing_says_goodbye_and_removes_the_socket(path: Path, feed: FakeFeed) -> None:
    control = ControlServer(bind_control_socket(path, default_location=False), feed)
    await control.start()
    viewer = await Viewer.attach(path)
    await poll(lambda: control.viewers == 1, "the viewer")
    await control.close("the gateway at x stopped")
    await viewer.ended()
    assert viewer.messages[-1] == Bye("the gateway at x stopped", gateway_stopped=True)
    assert not await asyncio.to_thread(path.exists)
