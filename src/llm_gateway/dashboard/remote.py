"""A :class:`DashboardFeed` read from a gateway's control socket: what ``top`` draws.

:class:`RemoteFeed` keeps what the gateway last sent: the newest snapshot, and a
:class:`~llm_gateway.metrics.log_history.LogHistory` of its own that every update's log
lines join. The dashboard reads it exactly as it reads the supervisor, so ``top`` and
``serve --dashboard`` are one app with one implementation of every panel.

:meth:`RemoteFeed.attach` connects and waits for the full state before it returns, so
the first frame drawn already holds the totals, the series and the log history;
:meth:`RemoteFeed.follow` then applies updates until the gateway ends the conversation.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

from llm_gateway.control.wire import (
    MAX_FRAME_BYTES,
    PROTOCOL,
    Attach,
    Bye,
    Hello,
    Update,
    WireError,
    encode,
    read_message,
)
from llm_gateway.metrics.log_history import LogHistory, LogReader, not_shown
from llm_gateway.metrics.snapshot import LogLine, Snapshot

ANSWER_TIMEOUT_S = 10.0
"""How long attaching waits for the full state; a gateway at idle priority on a busy
machine may take a few seconds."""


class AttachError(Exception):
    """No gateway could be watched at the path; the message says what was found there."""


class RemoteFeed:
    """The gateway's figures and log lines, as its control socket last sent them."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        hello: Hello,
        first: Update,
    ) -> None:
        self.version = hello.version
        self.listen_url = hello.listen_url
        self.log_level = hello.log_level
        self._reader = reader
        self._writer = writer
        self._history = LogHistory()
        self._snapshot = first.snapshot
        self._apply(first)

    @classmethod
    async def attach(cls, path: Path) -> RemoteFeed:
        """Connect to the control socket at ``path`` and read the gateway's full state."""
        try:
            reader, writer = await asyncio.open_unix_connection(path, limit=MAX_FRAME_BYTES)
        except (FileNotFoundError, ConnectionRefusedError):
            raise AttachError(
                f"no gateway is running with the control socket {path}"
                " (start one with `llm-gateway serve`, or give --port or --socket)"
            ) from None
        except OSError as exc:
            raise AttachError(f"cannot open the control socket {path}: {exc.strerror}") from None
        try:
            async with asyncio.timeout(ANSWER_TIMEOUT_S):
                writer.write(encode(Attach(PROTOCOL)))
                hello = await read_message(reader, MAX_FRAME_BYTES)
                first = (
                    await read_message(reader, MAX_FRAME_BYTES)
                    if isinstance(hello, Hello)
                    else None
                )
        except TimeoutError:
            writer.close()
            raise AttachError(
                f"no answer on {path} within {ANSWER_TIMEOUT_S:g}s: is it a gateway's socket?"
            ) from None
        except (WireError, ConnectionError) as exc:
            writer.close()
            raise AttachError(f"the gateway at {path} did not answer as expected: {exc}") from None
        if isinstance(hello, Hello) and isinstance(first, Update):
            return cls(reader, writer, hello, first)
        writer.close()
        for message in (hello, first):
            if isinstance(message, Bye):
                raise AttachError(message.reason)
        raise AttachError(f"the gateway at {path} closed the connection")

    def snapshot(self) -> Snapshot:
        return self._snapshot

    def log_reader(self, back: int) -> LogReader:
        return self._history.reader(back=back)

    async def follow(self) -> Bye:
        """Apply updates until the conversation ends; why it ended."""
        while True:
            try:
                message = await read_message(self._reader, MAX_FRAME_BYTES)
            except WireError as exc:
                return Bye(f"lost the gateway at {self.listen_url}: {exc}")
            if isinstance(message, Update):
                self._apply(message)
            elif isinstance(message, Bye):
                return message
            else:
                return Bye(f"the gateway at {self.listen_url} closed the connection")

    def close(self) -> None:
        """Detach: close our end; the gateway forgets this viewer and carries on."""
        self._writer.close()

    def _apply(self, update: Update) -> None:
        self._snapshot = update.snapshot
        if update.missed:
            # Lines the gateway's history lost before we read them: say so where they were.
            self._history.append(
                LogLine(
                    time.time(), logging.WARNING, "llm_gateway.control", not_shown(update.missed)
                )
            )
        self._history.extend(update.logs)
