from __future__ import annotations

import pytest

from llm_gateway.sse import EventTooLarge, SSEParser, encode_event

STREAM = (
    encode_event(b'{"a":1}', "message_start")
    + b": keep-alive comment\n\n"
    + encode_event(b'{"b":2}')
    + b"event: ping\r\ndata: {}\r\n\r\n"
    + b"data: line one\ndata: line two\n\n"
    + encode_event(b"[DONE]")
)


def parse(chunks: list[bytes]) -> list[tuple[str | None, bytes]]:
    parser = SSEParser()
    events = [event for chunk in chunks for event in parser.feed(chunk)]
    assert parser.pending == b""
    return [(event.event, event.data) for event in events]


EXPECTED = [
    ("message_start", b'{"a":1}'),
    (None, b'{"b":2}'),
    ("ping", b"{}"),
    (None, b"line one\nline two"),
    (None, b"[DONE]"),
]


def test_whole_stream() -> None:
    assert parse([STREAM]) == EXPECTED


def test_split_at_every_byte_boundary() -> None:
    for cut in range(1, len(STREAM)):
        assert parse([STREAM[:cut], STREAM[cut:]]) == EXPECTED, cut


def test_one_byte_at_a_time() -> None:
    assert parse([bytes([b]) for b in STREAM]) == EXPECTED


def test_raw_bytes_are_kept() -> None:
    first = SSEParser().feed(encode_event(b'{"a":1}', "x"))[0]
    assert first.raw == b'event: x\ndata: {"a":1}\n\n'
    assert first.json() == {"a": 1}


def test_incomplete_event_stays_pending() -> None:
    parser = SSEParser()
    assert parser.feed(b"data: {") == []
    assert parser.pending == b"data: {"


def test_an_event_that_never_ends_is_bounded() -> None:
    parser = SSEParser(max_event_bytes=100_000)
    parser.feed(encode_event(b"{}"))
    with pytest.raises(EventTooLarge):
        for _ in range(200):
            parser.feed(b"data: " + b"x" * 1000)


def test_an_event_arriving_in_many_pieces_is_whole() -> None:
    parser = SSEParser(max_event_bytes=100_000)
    pieces = [b"data: "] + [b"y" * 1000] * 50 + [b"\r", b"\n\r", b"\n"]
    events = [event for piece in pieces for event in parser.feed(piece)]
    assert [event.data for event in events] == [b"y" * 50_000]
    assert parser.pending == b""


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        (b"data:  x\n\n", (None, b" x")),
        (b"data:x\n\n", (None, b"x")),
        (b"data: \n\n", (None, b"")),
        (b"event: e\ndata: x\nid: 1\n\n", ("e", b"x")),
        (b"event: e\n\n", ("e", b"")),
        (b"data: x\nevent: e\n\n", ("e", b"x")),
        (b"event:  e\ndata: \n\n", (" e", b"")),
        (b"event: e\ndata: x\ndata: y\n\n", ("e", b"x\ny")),
    ],
)
def test_each_shape_of_event_is_read_as_the_format_says(
    block: bytes, expected: tuple[str | None, bytes]
) -> None:
    assert parse([block]) == [expected]
