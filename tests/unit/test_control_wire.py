"""The control socket's wire format: dataclasses through JSON and back, frames on a stream."""

from __future__ import annotations

import asyncio
import struct
from dataclasses import dataclass, field
from typing import Literal

import orjson
import pytest

from llm_gateway.control.codec import DecodeError, decoder
from llm_gateway.control.wire import (
    PROTOCOL,
    Attach,
    Bye,
    Hello,
    Update,
    WireError,
    decode,
    encode,
    encode_snapshot,
    encode_update,
    read_frame,
    read_message,
)
from llm_gateway.metrics.snapshot import (
    ClientStats,
    InFlightRequest,
    LogLine,
    ModelStats,
    Percentiles,
    Series,
    Snapshot,
)


def busy_snapshot() -> Snapshot:
    """Every kind of field filled in, including ``None`` gaps and whole-number floats."""
    return Snapshot(
        uptime_s=12.5,
        workers=2,
        requests_total=9,
        request_rate=3.0,
        errors_by_type={"auth": 1, "upstream": 2},
        error_share_by_type={"auth": 0.5},
        latency=Percentiles(0.001, 0.002, None),
        credits_total=1.25,
        models=(
            ModelStats("gpt-4o-mini", 7, 1, Percentiles(0.1, None, None), 10, 20, 0.7),
            ModelStats("claude", 2, 0, Percentiles(), 1, 2, 0.2, tokens_estimated=True, credits=3),
        ),
        clients=(
            ClientStats("alice", 6, 1, 10, 20, 0.6, 0.25),
            ClientStats("key-…a1b2#2", 3, 0, 1, 2, 0.3, 1.0),
            ClientStats("(unauthenticated)", 1, 1, 0, 0, 0.1, None),
        ),
        series=Series(
            requests_per_s=(1.0, 0.0, 2.5),
            p50_s=(None, 0.01, 0.02),
            active_connections=(0, 3, 1),
            gateway_memory_bytes=(1 << 30, 2 << 30, 3 << 30),
        ),
        in_flight=(
            InFlightRequest(61.5, "anthropic", "claude", "alice", "kiro-a", "streaming", 420),
            InFlightRequest(2.0, "responses", "gpt-4o", "key-…a1b2", "", "waiting", 0),
        ),
    )


def test_a_snapshot_comes_back_equal() -> None:
    snapshot = busy_snapshot()
    assert decoder(Snapshot)(orjson.loads(encode_snapshot(snapshot))) == snapshot


def test_every_message_comes_back_equal() -> None:
    line = LogLine(1.5, 20, "llm_gateway.access", "POST /v1/messages 200", worker=2)
    for message in (
        Attach(PROTOCOL),
        Hello(PROTOCOL, "1.2.3", "http://127.0.0.1:8000", 20),
        Update(busy_snapshot(), (line,), missed=4),
        Bye("the gateway stopped", gateway_stopped=True),
    ):
        assert decode(encode(message)[4:]) == message


def test_an_update_built_around_a_shared_snapshot_is_an_update() -> None:
    line = LogLine(1.5, 30, "x", "careful \x1b[2J")
    payload = encode_update(encode_snapshot(busy_snapshot()), [line], 2)[4:]
    assert decode(payload) == Update(busy_snapshot(), (line,), 2)


@dataclass(frozen=True)
class Inner:
    name: str
    kind: Literal["a", "b"] = "a"


@dataclass(frozen=True)
class Grown:
    """A dataclass of the kind a new panel might add to the snapshot."""

    inner: Inner
    by_worker: dict[int, float] = field(default_factory=dict)
    pair: tuple[int, str] = (0, "")
    items: list[Inner] = field(default_factory=list)
    maybe: Inner | None = None


def test_new_dataclasses_and_fields_need_no_code() -> None:
    value = Grown(Inner("x", "b"), {1: 0.5, 2: 1.0}, (3, "y"), [Inner("z")], Inner("w"))
    data = orjson.loads(orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS))
    assert decoder(Grown)(data) == value


def test_unknown_keys_are_ignored_and_missing_ones_take_their_default() -> None:
    assert decoder(Grown)({"inner": {"name": "x", "added_later": 1}}) == Grown(Inner("x"))


@pytest.mark.parametrize(
    ("data", "complaint"),
    [
        ({}, "Grown: missing inner"),
        ({"inner": {"name": 5}}, "Grown.inner: Inner.name: expected str, got int"),
        ({"inner": {"name": "x", "kind": "c"}}, "'c' is not one of"),
        ({"inner": {"name": "x"}, "by_worker": {"one": 1.0}}, "whole-number key"),
        ({"inner": {"name": "x"}, "pair": [1]}, "expected an array of 2"),
        ({"inner": {"name": "x"}, "by_worker": {"1": True}}, "expected a number, got bool"),
        ({"inner": []}, "Grown.inner: Inner: expected an object, got an array"),
    ],
)
def test_a_wrong_shape_says_where(data: object, complaint: str) -> None:
    with pytest.raises(DecodeError, match=complaint.replace("(", r"\(")):
        decoder(Grown)(data)


def test_a_hint_it_cannot_decode_fails_when_the_decoder_is_built() -> None:
    @dataclass
    class Odd:
        either: int | str

    with pytest.raises(TypeError, match=r"only X \| None"):
        decoder(Odd)


@pytest.mark.parametrize(
    "payload",
    [
        b"not json",
        b"{}",
        b'["update"]',
        b'["shout", {}]',
        b'["attach", {"protocol": "one"}]',
        b'["update", {"snapshot": {"workers": "two"}}]',
    ],
)
def test_garbage_is_a_wire_error(payload: bytes) -> None:
    with pytest.raises(WireError):
        decode(payload)


def stream(data: bytes) -> asyncio.StreamReader:
    reader = asyncio.StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    return reader


async def test_frames_are_read_back_to_back_and_end_cleanly_between_frames() -> None:
    reader = stream(encode(Attach(1)) + encode(Bye("x")))
    assert await read_message(reader, 1000) == Attach(1)
    assert await read_message(reader, 1000) == Bye("x")
    assert await read_message(reader, 1000) is None


async def test_a_truncated_frame_is_a_wire_error() -> None:
    whole = encode(Bye("the gateway stopped"))
    with pytest.raises(WireError, match="bytes short of a frame"):
        await read_frame(stream(whole[:-3]), 1000)
    with pytest.raises(WireError, match="inside a frame header"):
        await read_frame(stream(whole[:2]), 1000)


async def test_a_frame_over_the_limit_is_refused_before_it_is_read() -> None:
    with pytest.raises(WireError, match="over the limit of 4,096"):
        await read_frame(stream(struct.pack("!I", 1 << 31)), 4096)
