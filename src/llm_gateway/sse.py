"""Server-sent events: split a byte stream into whole events without touching their bytes.

The pass-through path forwards each event's original bytes, so the parser keeps them
(``raw``) next to the decoded ``event`` name and ``data`` that the gateway reads for
usage figures and translation.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson


@dataclass(slots=True)
class SSEEvent:
    raw: bytes
    event: str | None
    data: bytes

    def json(self) -> object:
        return orjson.loads(self.data)


def encode_event(data: bytes, event: str | None = None) -> bytes:
    """One SSE event as bytes: optional ``event:`` line, one ``data:`` line, blank line."""
    if event is None:
        return b"data: " + data + b"\n\n"
    return b"event: " + event.encode() + b"\ndata: " + data + b"\n\n"


class EventTooLarge(Exception):
    """One event grew past the parser's ``max_event_bytes`` without ending."""


class SSEParser:
    """Incremental parser: ``feed`` bytes as they arrive, get back the events completed.

    It costs time linear in the bytes fed, however they are cut: each byte is searched
    once for the blank line that ends an event, and ``\r\n`` is turned into ``\n`` per
    chunk, carrying a ``\r`` that ends one chunk over to the next. ``max_event_bytes``
    bounds an event that never ends: the next ``feed`` raises :class:`EventTooLarge`, so
    at most the bound and one chunk are held.
    """

    def __init__(self, max_event_bytes: int | None = None) -> None:
        self._buffer = bytearray()
        self._searched = 0
        """How much of the buffer is known to hold no blank line."""
        self._carried_cr = False
        self._max_event_bytes = max_event_bytes

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        # Checked before adding the chunk, so the events it completes are handed out first.
        if self._max_event_bytes is not None and len(self._buffer) > self._max_event_bytes:
            raise EventTooLarge(f"an event is larger than {self._max_event_bytes} bytes")
        if self._carried_cr:
            chunk = b"\r" + chunk
            self._carried_cr = False
        if b"\r" in chunk:
            if chunk.endswith(b"\r"):
                chunk = chunk[:-1]
                self._carried_cr = True
            chunk = chunk.replace(b"\r\n", b"\n")
        buffer = self._buffer
        if buffer:
            buffer += chunk
            # The blank line may begin with the last byte already searched.
            events, used = _split(buffer, max(0, self._searched - 1))
            del buffer[:used]
        else:
            # The usual case, a read that starts with an event: no copy into the buffer.
            events, used = _split(chunk, 0)
            buffer += memoryview(chunk)[used:]
        self._searched = len(buffer)
        return events

    @property
    def pending(self) -> bytes:
        """Bytes received after the last complete event (non-empty means a cut-off stream)."""
        return bytes(self._buffer) + (b"\r" if self._carried_cr else b"")


def _split(data: bytes | bytearray, search: int) -> tuple[list[SSEEvent], int]:
    """The events completed in ``data`` (no blank line before ``search``), and how many
    of its bytes they took."""
    events: list[SSEEvent] = []
    start = 0
    while (end := data.find(b"\n\n", search)) >= 0:
        event = _parse_block(bytes(data[start : end + 2]))
        if event is not None:
            events.append(event)
        start = search = end + 2
    return events, start


def _parse_block(block: bytes) -> SSEEvent | None:
    """One event from its bytes, ending with the blank line."""
    # Upstreams write nearly every event as one ``data:`` line, with or without an
    # ``event:`` line first; those are read by position, without splitting into lines.
    last = len(block) - 2
    if block.startswith(b"data: "):
        if block.find(b"\n") == last:
            return SSEEvent(raw=block, event=None, data=block[6:last])
    elif block.startswith(b"event: "):
        line_end = block.find(b"\n")
        if block.startswith(b"data: ", line_end + 1) and block.find(b"\n", line_end + 1) == last:
            name = block[7:line_end].decode("utf-8", "replace")
            return SSEEvent(raw=block, event=name, data=block[line_end + 7 : last])
    return _parse_lines(block)


def _parse_lines(block: bytes) -> SSEEvent | None:
    """Any event, line by line, as the SSE format reads it."""
    name: str | None = None
    data: list[bytes] = []
    for line in block.split(b"\n"):
        if not line or line.startswith(b":"):
            continue
        key, _, value = line.partition(b":")
        if value.startswith(b" "):
            value = value[1:]
        if key == b"data":
            data.append(value)
        elif key == b"event":
            name = value.decode("utf-8", "replace")
    if name is None and not data:
        return None
    return SSEEvent(raw=block, event=name, data=b"\n".join(data))
