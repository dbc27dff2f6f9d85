"""The event-stream codec: the published test vector, every header type, any split."""

from __future__ import annotations

import struct
import uuid
import zlib
from datetime import UTC, datetime

import pytest

from llm_gateway.providers.kiro.eventstream import (
    Frame,
    FrameDecoder,
    FrameError,
    HeaderValue,
    encode_frame,
)

VECTOR_PAYLOAD = b'{"foo": "bar"}'
VECTOR = bytes.fromhex("0000001e00000000baf2f68a") + VECTOR_PAYLOAD + bytes.fromhex("ae7258e4")


def decode_all(data: bytes) -> list[Frame]:
    decoder = FrameDecoder()
    frames = decoder.feed(data)
    assert decoder.pending == 0
    return frames


def test_encodes_the_known_test_vector() -> None:
    assert encode_frame(VECTOR_PAYLOAD) == VECTOR


def test_decodes_the_known_test_vector() -> None:
    assert decode_all(VECTOR) == [Frame({}, VECTOR_PAYLOAD)]


def test_every_header_type_round_trips() -> None:
    headers: dict[str, HeaderValue] = {
        ":message-type": "event",
        "yes": True,
        "no": False,
        "long": -(2**40),
        "bytes": b"\x00\x01\xff",
        "when": datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC),
        "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    }
    (frame,) = decode_all(encode_frame(b"payload", headers))
    assert frame.headers == headers
    assert frame.payload == b"payload"


def test_decodes_the_narrow_integer_types() -> None:
    # Our encoder writes every int as a long; Kiro may send byte, short and int headers.
    raw_headers = (
        b"\x01b\x02\xff"  # byte -1
        + b"\x01s\x03\x01\x00"  # short 256
        + b"\x01i\x04\x00\x01\x00\x00"  # int 65536
    )
    frame = FrameDecoder().feed(_frame_with_raw_headers(raw_headers, b"x"))[0]
    assert frame.headers == {"b": -1, "s": 256, "i": 65536}


def test_frames_split_at_every_byte_boundary_decode_the_same() -> None:
    frames = [
        encode_frame(b'{"content": "Hel"}', {":event-type": "assistantResponseEvent"}),
        encode_frame(b"", {":message-type": "event"}),
        encode_frame(b'{"content": "lo \xc3\xa9"}', {":event-type": "assistantResponseEvent"}),
    ]
    data = b"".join(frames)
    expected = decode_all(data)
    assert len(expected) == 3
    for cut in range(len(data) + 1):
        decoder = FrameDecoder()
        got = decoder.feed(data[:cut]) + decoder.feed(data[cut:])
        assert got == expected, cut
        assert decoder.pending == 0


def test_byte_at_a_time() -> None:
    data = encode_frame(b"abc", {"k": "v"}) * 3
    decoder = FrameDecoder()
    got = [frame for byte in data for frame in decoder.feed(bytes([byte]))]
    assert [frame.payload for frame in got] == [b"abc"] * 3


def test_an_unfinished_frame_is_pending() -> None:
    decoder = FrameDecoder()
    assert decoder.feed(VECTOR[:-1]) == []
    assert decoder.pending == len(VECTOR) - 1


@pytest.mark.parametrize(
    ("position", "message"),
    [(2, "prelude CRC"), (9, "prelude CRC"), (14, "message CRC"), (len(VECTOR) - 1, "message CRC")],
)
def test_a_corrupted_frame_is_rejected(position: int, message: str) -> None:
    damaged = bytearray(VECTOR)
    damaged[position] ^= 0x40
    with pytest.raises(FrameError, match=message):
        FrameDecoder().feed(bytes(damaged))


def test_lengths_that_cannot_be_are_rejected() -> None:
    with pytest.raises(FrameError, match="impossible lengths"):
        FrameDecoder().feed(_prelude(total=10, headers_length=0))


def test_an_unknown_header_type_is_rejected() -> None:
    with pytest.raises(FrameError, match="unknown type 12"):
        FrameDecoder().feed(_frame_with_raw_headers(b"\x01k\x0c", b""))


def test_a_header_running_past_its_block_is_rejected() -> None:
    with pytest.raises(FrameError, match="malformed"):
        FrameDecoder().feed(_frame_with_raw_headers(b"\x01k\x07\x00\x09abc", b""))


def _prelude(total: int, headers_length: int) -> bytes:
    prelude = struct.pack(">II", total, headers_length)
    return prelude + struct.pack(">I", zlib.crc32(prelude))


def _frame_with_raw_headers(raw_headers: bytes, payload: bytes) -> bytes:
    head = _prelude(16 + len(raw_headers) + len(payload), len(raw_headers)) + raw_headers + payload
    return head + struct.pack(">I", zlib.crc32(head))
