"""The control socket: how ``llm-gateway top`` watches a gateway that has no terminal.

The supervisor listens on a Unix socket, never TCP, that only its own user can open: the
socket is 0600 in a 0700 directory (see :mod:`llm_gateway.control.paths`). A viewer
sends :class:`~llm_gateway.control.wire.Attach` and gets the full state at once (the
snapshot with its 15 minutes of series, and the recent log history), then an update
four times a second until it detaches or the gateway stops.

What it costs the gateway:

- Nothing while nobody watches: the ticker runs only while a viewer is attached.
- Per tick, one snapshot, encoded once for every viewer; each viewer reads the log
  history from a cursor of its own, so viewers never take lines from each other or
  from the terminal.
- Writes never wait. A viewer's updates queue in its transport, behind a kernel buffer
  of the same size at most. A viewer that still has more than ``buffer_bytes`` waiting
  when its next update is due has stopped reading (a suspended ssh session, a stopped
  process) and is dropped: it gets a :class:`~llm_gateway.control.wire.Bye` saying why
  behind what is already queued, and is cut off if it has not read it within
  :data:`GOODBYE_TIMEOUT_S`. A stalled viewer costs bounded memory (the limit and one
  update, whose log lines the history bounds) and no time.
- A viewer that sends anything but one well-formed Attach is dropped, with a warning in
  the log; the others carry on.

It runs on the supervisor's loop like the rest of the supervisor, whether or not there
is a console.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import socket
import stat
from pathlib import Path

from llm_gateway.control.paths import ControlPathError, make_private_directory
from llm_gateway.control.wire import (
    MAX_ATTACH_BYTES,
    PROTOCOL,
    Attach,
    Bye,
    Hello,
    WireError,
    encode,
    encode_snapshot,
    encode_update,
    read_message,
)
from llm_gateway.dashboard.feed import DashboardFeed
from llm_gateway.metrics.log_history import LogReader

logger = logging.getLogger("llm_gateway.control")

UPDATE_INTERVAL_S = 0.25
DEFAULT_BUFFER_BYTES = 4 << 20
"""What one viewer may have waiting before it is dropped: with 15 minutes of series an
update is about 130 kB, so this is some 8 seconds of not reading at all."""
HISTORY_LINES = 1000
"""Log lines a viewer gets on attach: as many as the dashboard's log panel keeps."""
ATTACH_TIMEOUT_S = 5.0
GOODBYE_TIMEOUT_S = 5.0
"""How long a dropped viewer's last frames may wait to be read before it is cut off."""
CLOSING_TIMEOUT_S = 1.0
"""How long shutdown waits for the viewers to read their goodbye."""


class ControlSocketError(Exception):
    """The control socket cannot be opened; the message is the one line a user sees."""


def bind_control_socket(path: Path, *, default_location: bool) -> socket.socket:
    """A listening Unix socket at ``path``, 0600; a stale one there is replaced.

    ``default_location``: ``path`` is in our own directory, which is made 0700 and
    checked. A directory the user named is made 0700 if it is missing, and left as it is
    otherwise; the socket's own mode keeps other users out either way.
    """
    try:
        if default_location:
            make_private_directory(path.parent)
        else:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    except ControlPathError as exc:
        raise ControlSocketError(str(exc)) from None
    except OSError as exc:
        raise ControlSocketError(f"cannot make {path.parent}: {exc.strerror}") from None
    _remove_stale(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        # Created 0600 rather than chmod'ed after: no moment in which others could connect.
        # The umask is per process; this runs before any worker or thread that creates files.
        umask = os.umask(0o177)
        try:
            sock.bind(str(path))
        finally:
            os.umask(umask)
        sock.listen(16)
    except OSError as exc:
        sock.close()
        raise ControlSocketError(f"cannot open {path}: {exc.strerror or exc}") from None
    return sock


def _remove_stale(path: Path) -> None:
    """Unlink a socket at ``path`` that no one listens on; refuse a live one or a file."""
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(mode):
        raise ControlSocketError(f"{path} exists and is not a socket; not replacing it")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(str(path))
        except OSError as exc:
            if exc.errno != errno.ECONNREFUSED:
                raise ControlSocketError(f"cannot check {path}: {exc.strerror}") from None
        else:
            raise ControlSocketError(
                f"another gateway is running with the control socket {path};"
                " stop it, or give this one --control-socket PATH or --port"
            )
    path.unlink(missing_ok=True)


class _Viewer:
    """One attached ``top``: its connection and its place in the log history."""

    __slots__ = ("logs", "writer")

    def __init__(self, writer: asyncio.StreamWriter, logs: LogReader) -> None:
        self.writer = writer
        self.logs = logs


class ControlServer:
    """Serves ``feed`` to every viewer on ``sock``; see the module docstring."""

    def __init__(
        self,
        sock: socket.socket,
        feed: DashboardFeed,
        *,
        interval_s: float = UPDATE_INTERVAL_S,
        buffer_bytes: int = DEFAULT_BUFFER_BYTES,
    ) -> None:
        self.path = Path(sock.getsockname())
        self._sock = sock
        self._inode = os.stat(self.path).st_ino
        self._feed = feed
        self._interval_s = interval_s
        self._buffer_bytes = buffer_bytes
        self._viewers: set[_Viewer] = set()
        self._ticker: asyncio.Task[None] | None = None
        self._server: asyncio.Server | None = None

    @property
    def viewers(self) -> int:
        return len(self._viewers)

    async def start(self) -> None:
        self._server = await asyncio.start_unix_server(self._serve_viewer, sock=self._sock)

    async def close(self, reason: str) -> None:
        """Say ``reason`` to every viewer, stop accepting, and remove the socket file.

        Each viewer gets a moment to read its goodbye; a stalled one is cut off.
        """
        if self._server is not None:
            self._server.close()
        viewers = list(self._viewers)
        for viewer in viewers:
            self._drop(viewer, reason, stopped=True)
        self._stop_ticker()
        if viewers:
            closing = [asyncio.ensure_future(_closed(v.writer)) for v in viewers]
            _, late = await asyncio.wait(closing, timeout=CLOSING_TIMEOUT_S)
            for viewer in viewers:
                viewer.writer.transport.abort()
            for waiter in late:
                waiter.cancel()
        # Only if it is still ours: a gateway started since may have replaced it.
        with contextlib.suppress(OSError):
            if os.stat(self.path).st_ino == self._inode:
                self.path.unlink()

    async def _serve_viewer(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        # The kernel's buffer holds at most as much again as ours, so the bound is the
        # whole of what waits for this viewer, not only the part in our process.
        writer.get_extra_info("socket").setsockopt(
            socket.SOL_SOCKET, socket.SO_SNDBUF, self._buffer_bytes
        )
        viewer = None
        try:
            viewer = await self._attach(reader, writer)
            # A viewer sends nothing after Attach: wait for it to leave, or to misbehave.
            if viewer is not None and await reader.read(MAX_ATTACH_BYTES):
                logger.warning(
                    "dropped a viewer of the control socket: it sent bytes after attaching"
                )
                self._viewers.discard(viewer)
        except ConnectionError:
            pass  # it reset, or a write to it failed: it has left all the same
        finally:
            if viewer is not None and viewer in self._viewers:
                self._viewers.discard(viewer)
                logger.info("a viewer detached (%d still attached)", len(self._viewers))
            writer.close()
            if not self._viewers:
                self._stop_ticker()

    async def _attach(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> _Viewer | None:
        """Read the viewer's Attach and send it everything so far; ``None`` if refused."""
        try:
            async with asyncio.timeout(ATTACH_TIMEOUT_S):
                message = await read_message(reader, MAX_ATTACH_BYTES)
        except (WireError, TimeoutError) as exc:
            detail = str(exc) or f"no attach within {ATTACH_TIMEOUT_S:g}s"
            logger.warning("dropped a client of the control socket: %s", detail)
            return None
        if message is None:
            return None
        if not isinstance(message, Attach):
            logger.warning("dropped a client of the control socket: it did not attach first")
            return None
        if message.protocol != PROTOCOL:
            writer.write(
                encode(
                    Bye(
                        f"this gateway speaks control protocol {PROTOCOL} and this viewer"
                        f" {message.protocol}: use the same llm-gateway version for both"
                    )
                )
            )
            return None
        feed = self._feed
        writer.write(encode(Hello(PROTOCOL, feed.version, feed.listen_url, feed.log_level)))
        viewer = _Viewer(writer, feed.log_reader(back=HISTORY_LINES))
        self._viewers.add(viewer)
        logger.info("a viewer attached (%d attached)", len(self._viewers))
        self._send_update(viewer, encode_snapshot(feed.snapshot()))
        if self._ticker is None and viewer in self._viewers:
            self._ticker = asyncio.create_task(self._tick_forever())
        return viewer

    async def _tick_forever(self) -> None:
        while True:
            await asyncio.sleep(self._interval_s)
            snapshot = encode_snapshot(self._feed.snapshot())
            for viewer in list(self._viewers):
                self._send_update(viewer, snapshot)

    def _stop_ticker(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None

    def _send_update(self, viewer: _Viewer, snapshot_json: bytes) -> None:
        # What still waits from earlier updates is what the viewer left unread for a whole
        # interval. One update alone may be larger than the limit (a burst of log lines)
        # without the viewer being behind, so the check comes before the write.
        waiting = viewer.writer.transport.get_write_buffer_size()
        if waiting > self._buffer_bytes:
            logger.warning(
                "dropped a viewer of the control socket: it stopped reading"
                " and %s bytes were waiting for it (limit %s)",
                f"{waiting:,}",
                f"{self._buffer_bytes:,}",
            )
            self._drop(
                viewer,
                f"this viewer fell behind: {waiting:,} bytes were waiting for it"
                f" (--viewer-buffer is {self._buffer_bytes:,})",
            )
            return
        batch = viewer.logs.read()
        # Access lines are read back here, while someone views them: the wire carries records.
        viewer.writer.write(encode_update(snapshot_json, batch.records(), batch.missed))

    def _drop(self, viewer: _Viewer, reason: str, *, stopped: bool = False) -> None:
        """Say ``reason`` behind what is queued, close, and cut off if it is not read."""
        self._viewers.discard(viewer)
        transport = viewer.writer.transport
        viewer.writer.write(encode(Bye(reason, gateway_stopped=stopped)))
        transport.close()
        asyncio.get_running_loop().call_later(GOODBYE_TIMEOUT_S, transport.abort)


async def _closed(writer: asyncio.StreamWriter) -> None:
    # A viewer that left without reading its goodbye broke the pipe: closed all the same.
    with contextlib.suppress(ConnectionError):
        await writer.wait_closed()
