"""The AWS event-stream binary framing that Kiro streams its answers in.

A frame (``application/vnd.amazon.eventstream``) is, with every integer big-endian::

    total length   u32   the whole frame, these 4 bytes and the trailing CRC included
    headers length u32
    prelude CRC    u32   CRC32 of the 8 bytes above
    headers              headers-length bytes
    payload              the rest
    message CRC    u32   CRC32 of everything before it

and a header is a name length (u8), the name, a type tag (u8) and a value whose encoding
the tag decides. Both CRCs are zlib's CRC32, so a frame damaged anywhere is caught before
any of it is believed: :class:`FrameDecoder` raises :class:`FrameError` rather than
resynchronise on a guess.
"""

from __future__ import annotations

import struct
import uuid
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

HeaderValue = bool | int | bytes | str | datetime | uuid.UUID

_PRELUDE = struct.Struct(">II")
_CRC = struct.Struct(">I")
_PRELUDE_SIZE = _PRELUDE.size + _CRC.size
_MIN_FRAME = _PRELUDE_SIZE + _CRC.size
# The AWS SDKs refuse frames over 16 MiB; a length beyond that is a corrupt prelude.
MAX_FRAME_BYTES = 16 * 1024 * 1024

# Header type tags, from the AWS event-stream specification.
_TRUE, _FALSE, _BYTE, _SHORT, _INT, _LONG, _BYTES, _STRING, _TIMESTAMP, _UUID = range(10)
_FIXED = {_BYTE: struct.Struct(">b"), _SHORT: struct.Struct(">h"), _INT: struct.Struct(">i")}
_LONG_STRUCT = struct.Struct(">q")
_U16 = struct.Struct(">H")


class FrameError(ValueError):
    """The byte stream is not valid event-stream framing (bad CRC, bad length, bad header)."""


@dataclass(frozen=True, slots=True)
class Frame:
    headers: Mapping[str, HeaderValue]
    payload: bytes

    @property
    def message_type(self) -> str:
        """``event``, ``exception`` or ``error`` (AWS's ``:message-type``)."""
        return str(self.headers.get(":message-type", "event"))

    @property
    def event_type(self) -> str:
        return str(self.headers.get(":event-type", ""))


def encode_frame(payload: bytes, headers: Mapping[str, HeaderValue] | None = None) -> bytes:
    """One frame carrying ``payload``; ``str`` header values are sent as type 7 (string)."""
    encoded_headers = b"".join(
        _encode_header(name, value) for name, value in (headers or {}).items()
    )
    total = _MIN_FRAME + len(encoded_headers) + len(payload)
    prelude = _PRELUDE.pack(total, len(encoded_headers))
    head = prelude + _CRC.pack(zlib.crc32(prelude)) + encoded_headers + payload
    return head + _CRC.pack(zlib.crc32(head))


def _encode_header(name: str, value: HeaderValue) -> bytes:
    raw_name = name.encode()
    start = bytes([len(raw_name)]) + raw_name
    if isinstance(value, bool):
        return start + bytes([_TRUE if value else _FALSE])
    if isinstance(value, int):
        return start + bytes([_LONG]) + _LONG_STRUCT.pack(value)
    if isinstance(value, str):
        data = value.encode()
        return start + bytes([_STRING]) + _U16.pack(len(data)) + data
    if isinstance(value, bytes):
        return start + bytes([_BYTES]) + _U16.pack(len(value)) + value
    if isinstance(value, datetime):
        return start + bytes([_TIMESTAMP]) + _LONG_STRUCT.pack(int(value.timestamp() * 1000))
    return start + bytes([_UUID]) + value.bytes


class FrameTooLarge(Exception):
    """A frame announced a length past the decoder's ``max_frame_bytes`` (but a possible one)."""


class FrameDecoder:
    """Incremental decoder: ``feed`` bytes as they arrive, get back the frames completed.

    Frames may be split anywhere across chunks; incomplete bytes wait for the next feed.
    A frame longer than ``max_frame_bytes`` raises :class:`FrameTooLarge` as soon as its
    prelude is read, so at most that much and one chunk are ever held. The frames
    completed before it are handed out first: then the next ``feed``, or :meth:`end`,
    raises.
    """

    def __init__(self, max_frame_bytes: int = MAX_FRAME_BYTES) -> None:
        self._buffer = bytearray()
        self._max_frame_bytes = max_frame_bytes
        self._too_large: FrameTooLarge | None = None

    def feed(self, chunk: bytes) -> list[Frame]:
        self.end()
        self._buffer += chunk
        frames: list[Frame] = []
        start = 0
        buffer = self._buffer
        while len(buffer) - start >= _PRELUDE_SIZE:
            total, headers_length = _PRELUDE.unpack_from(buffer, start)
            (prelude_crc,) = _CRC.unpack_from(buffer, start + _PRELUDE.size)
            if zlib.crc32(buffer[start : start + _PRELUDE.size]) != prelude_crc:
                raise FrameError("event-stream prelude CRC mismatch (corrupted frame)")
            if not _MIN_FRAME + headers_length <= total <= MAX_FRAME_BYTES:
                raise FrameError(
                    f"event-stream frame has impossible lengths ({total}, {headers_length})"
                )
            if total > self._max_frame_bytes:
                self._too_large = FrameTooLarge(f"an event-stream frame of {total} bytes")
                if not frames:
                    self.end()
                break
            if len(buffer) - start < total:
                break
            end = start + total
            (message_crc,) = _CRC.unpack_from(buffer, end - _CRC.size)
            if zlib.crc32(buffer[start : end - _CRC.size]) != message_crc:
                raise FrameError("event-stream message CRC mismatch (corrupted frame)")
            headers_start = start + _PRELUDE_SIZE
            payload_start = headers_start + headers_length
            headers = _decode_headers(bytes(buffer[headers_start:payload_start]))
            frames.append(Frame(headers, bytes(buffer[payload_start : end - _CRC.size])))
            start = end
        del buffer[:start]
        return frames

    def end(self) -> None:
        """Raise :class:`FrameTooLarge` if a frame past the limit was announced."""
        if self._too_large is not None:
            raise self._too_large

    @property
    def pending(self) -> int:
        """How many bytes wait for the rest of their frame (non-zero at the end: cut off)."""
        return len(self._buffer)


def _decode_headers(data: bytes) -> dict[str, HeaderValue]:
    headers: dict[str, HeaderValue] = {}
    position = 0
    try:
        while position < len(data):
            name_length = data[position]
            name = data[position + 1 : position + 1 + name_length].decode()
            position += 1 + name_length
            kind = data[position]
            position += 1
            value, position = _decode_value(kind, data, position)
            headers[name] = value
    except (IndexError, struct.error, UnicodeDecodeError) as exc:
        raise FrameError("event-stream header block is malformed") from exc
    if position != len(data):
        raise FrameError("event-stream header block is malformed")
    return headers


def _decode_value(kind: int, data: bytes, position: int) -> tuple[HeaderValue, int]:
    if kind in (_TRUE, _FALSE):
        return kind == _TRUE, position
    fixed = _FIXED.get(kind)
    if fixed is not None:
        return fixed.unpack_from(data, position)[0], position + fixed.size
    if kind in (_LONG, _TIMESTAMP):
        (number,) = _LONG_STRUCT.unpack_from(data, position)
        end = position + _LONG_STRUCT.size
        if kind == _LONG:
            return number, end
        return datetime.fromtimestamp(number / 1000, UTC), end
    if kind in (_BYTES, _STRING):
        (length,) = _U16.unpack_from(data, position)
        start = position + _U16.size
        raw = data[start : start + length]
        if len(raw) != length:
            raise IndexError("header value runs past the header block")
        return (raw.decode() if kind == _STRING else raw), start + length
    if kind == _UUID:
        raw = data[position : position + 16]
        if len(raw) != 16:
            raise IndexError("header value runs past the header block")
        return uuid.UUID(bytes=raw), position + 16
    raise FrameError(f"event-stream header has unknown type {kind}")
