"""What crosses the control socket: length-prefixed frames of orjson messages.

A frame is a 4-byte big-endian length and that many bytes of JSON. Each message is a
two-element array, ``[kind, body]``, the body being one of the dataclasses below as
orjson writes it; :func:`decode` reads it back through :mod:`.codec`, so the snapshot
carries whatever fields :class:`Snapshot` has today.

The conversation: the viewer sends :class:`Attach`; the gateway answers :class:`Hello`,
then an :class:`Update` four times a second, the first with the recent log history;
it ends with :class:`Bye`, which says why (the gateway is stopping, or this viewer fell
too far behind), or by closing. The viewer sends nothing after :class:`Attach`.
"""

from __future__ import annotations

import asyncio
import struct
from dataclasses import dataclass
from typing import Any

import orjson

from llm_gateway.control.codec import DecodeError, decoder
from llm_gateway.metrics.snapshot import LogLine, Snapshot

PROTOCOL = 1
"""Raised whenever a message changes shape in a way an older reader would misread."""

MAX_ATTACH_BYTES = 4096
"""The most a viewer may send: an :class:`Attach` is a few dozen bytes."""
MAX_FRAME_BYTES = 64 << 20
"""The most a viewer accepts in one frame, far above a snapshot with 15 minutes of history."""

_HEADER = struct.Struct("!I")


class WireError(ValueError):
    """The bytes on the socket are not a frame, or not a message we know."""


@dataclass(frozen=True, slots=True)
class Attach:
    """Viewer to gateway, once: which protocol the viewer speaks."""

    protocol: int


@dataclass(frozen=True, slots=True)
class Hello:
    """Gateway to viewer, once, before the first update."""

    protocol: int
    version: str
    listen_url: str
    log_level: int


@dataclass(frozen=True, slots=True)
class Update:
    """The figures as of now, and the log lines since the last update.

    ``missed`` counts lines that left the gateway's log history before this viewer got
    them (or, in the first update, that were older than the history sent).
    """

    snapshot: Snapshot
    logs: tuple[LogLine, ...] = ()
    missed: int = 0


@dataclass(frozen=True, slots=True)
class Bye:
    """Gateway to viewer, last: why the gateway is ending the conversation."""

    reason: str
    gateway_stopped: bool = False
    """The gateway is stopping, as opposed to sending this viewer away."""


Message = Attach | Hello | Update | Bye

_KINDS: dict[str, type[Any]] = {
    "attach": Attach,
    "hello": Hello,
    "update": Update,
    "bye": Bye,
}
_NAMES = {cls: name for name, cls in _KINDS.items()}
_DECODERS = {name: decoder(cls) for name, cls in _KINDS.items()}


def frame(payload: bytes) -> bytes:
    return _HEADER.pack(len(payload)) + payload


def encode(message: Message) -> bytes:
    """``message`` as one frame."""
    return frame(orjson.dumps([_NAMES[type(message)], message], option=orjson.OPT_NON_STR_KEYS))


def encode_snapshot(snapshot: Snapshot) -> bytes:
    """A snapshot's JSON, to be shared by every viewer's :func:`encode_update`."""
    return orjson.dumps(snapshot, option=orjson.OPT_NON_STR_KEYS)


def encode_update(snapshot_json: bytes, logs: list[LogLine], missed: int) -> bytes:
    """An :class:`Update` as one frame, around a snapshot encoded once for all viewers."""
    body = b'{"snapshot":%b,"logs":%b,"missed":%d}' % (snapshot_json, orjson.dumps(logs), missed)
    return frame(b'["update",%b]' % body)


def decode(payload: bytes) -> Message:
    """The message in one frame's payload; :class:`WireError` if it is not one."""
    try:
        kind, body = orjson.loads(payload)
        message: Message = _DECODERS[kind](body)
    except (orjson.JSONDecodeError, ValueError, TypeError, KeyError) as exc:
        # DecodeError is a ValueError; unpacking a non-pair raises ValueError or TypeError.
        detail = str(exc) if isinstance(exc, DecodeError) else "not a control message"
        raise WireError(detail) from None
    return message


async def read_frame(reader: asyncio.StreamReader, limit: int) -> bytes | None:
    """The next frame's payload, or ``None`` if the other side closed between frames.

    A frame cut short, or one longer than ``limit``, is a :class:`WireError`.
    """
    try:
        header = await reader.readexactly(_HEADER.size)
    except asyncio.IncompleteReadError as exc:
        if exc.partial:
            raise WireError("the connection ended inside a frame header") from None
        return None
    except ConnectionError:
        # A peer that exits with data unread in its socket resets it: it is gone all the same.
        return None
    (length,) = _HEADER.unpack(header)
    if length > limit:
        raise WireError(f"a frame of {length:,} bytes is over the limit of {limit:,}")
    try:
        return await reader.readexactly(length)
    except ConnectionError:
        return None
    except asyncio.IncompleteReadError as exc:
        raise WireError(
            f"the connection ended {length - len(exc.partial):,} bytes short of a frame"
        ) from None


async def read_message(reader: asyncio.StreamReader, limit: int) -> Message | None:
    """The next message, or ``None`` if the other side closed between frames."""
    payload = await read_frame(reader, limit)
    return None if payload is None else decode(payload)
