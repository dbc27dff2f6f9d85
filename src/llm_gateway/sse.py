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


class SSEParser:
    """Incremental parser: ``feed`` bytes as they arrive, get back the events completed."""

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        buffer = self._buffer + chunk
        if b"\r" in buffer:
            buffer = buffer.replace(b"\r\n", b"\n")
        events: list[SSEEvent] = []
        start = 0
        while True:
            end = buffer.find(b"\n\n", start)
            if end < 0:
                break
            block = buffer[start : end + 2]
            start = end + 2
            event = _parse_block(block)
            if event is not None:
                events.append(event)
        self._buffer = buffer[start:]
        return events

    @property
    def pending(self) -> bytes:
        """Bytes received after the last complete event (non-empty means a cut-off stream)."""
        return self._buffer


def _parse_block(block: bytes) -> SSEEvent | None:
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
