"""The engine: from a request to a plan of exactly what to send, and when.

A :class:`Plan` is everything the two faces of the simulator need and nothing they must
decide: the status, the wait before the headers, and the body as a list of pieces, each
with the pause before it. Faults are already applied: a stall is a long pause, a reset
is a plan that stops early and says so, garbage is bytes that are not valid JSON.

Where a fault strikes is fixed: half-way. A body with a stall or reset is sent in two
halves; a stream stalls before, or resets after, the first half of its events; garbage
cuts the body in half, or cuts the middle event's JSON in half and ends the stream there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from http import HTTPStatus
from typing import Any, overload

from llm_gateway.apis import Api
from llm_gateway.errors import (
    GatewayError,
    anthropic_error_body,
    openai_error_body,
    validation_error,
)
from llm_gateway.sim.anthropic_wire import anthropic_body, anthropic_stream
from llm_gateway.sim.completion import Completion, complete
from llm_gateway.sim.directives import Directives, parse_directives
from llm_gateway.sim.openai_wire import openai_body, openai_stream
from llm_gateway.sim.responses_wire import responses_body, responses_stream
from llm_gateway.sim.wire import Stream
from llm_gateway.sse import SSEParser, encode_event

JSON = "application/json"
EVENT_STREAM = "text/event-stream"

YIELD_EVERY = 64
"""Pieces sent back to back, with no pause planned, before the loop runs something else."""

_REASON_PHRASES = {status.value: status.phrase for status in HTTPStatus} | {529: "Overloaded"}


@dataclass(frozen=True, slots=True)
class Piece:
    pause: float
    """Seconds to wait before sending ``data``."""
    data: bytes


class Pieces(Sequence[Piece]):
    """A plan's pieces, each made when it is read.

    A stream's events are encoded one at a time as they are sent (see
    :class:`~llm_gateway.sim.wire.Lazy`), so a long reply costs neither its whole size in
    memory nor one long pause of the loop. Faults change one piece (:meth:`changed`) or
    end the pieces early (:meth:`cut`) without making the others.
    """

    __slots__ = ("_changed", "_length", "_make")

    def __init__(
        self, length: int, make: Callable[[int], Piece], changed: Mapping[int, Piece] | None = None
    ) -> None:
        self._length = length
        self._make = make
        self._changed = changed or {}

    @classmethod
    def of(cls, *pieces: Piece) -> Pieces:
        return cls(len(pieces), pieces.__getitem__)

    def __len__(self) -> int:
        return self._length

    @overload
    def __getitem__(self, index: int) -> Piece: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Piece]: ...
    def __getitem__(self, index: int | slice) -> Piece | Sequence[Piece]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._length))]
        if index < 0:
            index += self._length
        if not 0 <= index < self._length:
            raise IndexError(index)
        changed = self._changed.get(index)
        return self._make(index) if changed is None else changed

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Pieces) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]

    def changed(self, index: int, piece: Piece) -> Pieces:
        return Pieces(self._length, self._make, {**self._changed, index: piece})

    def cut(self, length: int) -> Pieces:
        return Pieces(length, self._make, self._changed)


@dataclass(frozen=True, slots=True)
class Plan:
    status: int
    delay: float
    """Seconds to wait before the response headers."""
    media_type: str
    pieces: Pieces
    length: int | None = None
    """For a JSON body: its full length, which ``Content-Length`` announces even when a
    reset stops the pieces short. ``None`` for a stream."""
    reset: bool = False
    """Drop the connection once the pieces are sent."""
    error: GatewayError | None = None
    """For an error status: the error the body describes."""

    @property
    def body(self) -> bytes:
        return b"".join(piece.data for piece in self.pieces)


def plan(api: Api, body: dict[str, Any], *, stream: bool, created: int) -> Plan:
    """The simulator's answer to ``body`` (in shape ``api``); ``created`` is the Unix time
    OpenAI replies carry."""
    model = body.get("model")
    if not isinstance(model, str):
        return error_plan(api, validation_error("'model' must be a string", param="model"))
    try:
        directives = parse_directives(model)
    except GatewayError as error:
        return error_plan(api, error)
    delay = directives.delay_ms / 1000
    if directives.status is not None:
        return error_plan(api, status_error(directives.status), delay=delay)
    try:
        completion = complete(api, body, directives)
    except GatewayError as error:
        return error_plan(api, error, delay=delay)
    if stream:
        return _stream_plan(
            _render_stream(api, completion, model, created, body), directives, delay
        )
    if directives.tps is not None:
        # A real upstream generates the whole reply before it sends a non-streamed body.
        delay += completion.output_tokens / directives.tps
    if api == "openai":
        data = openai_body(completion, model, created)
    elif api == "responses":
        data = responses_body(completion, model, created, body)
    else:
        data = anthropic_body(completion, model)
    return _body_plan(data, directives, delay)


def expected_usage(api: Api, body: dict[str, Any]) -> tuple[int, int]:
    """The ``(input, output)`` token counts the simulator reports for ``body``."""
    model = body.get("model")
    completion = complete(api, body, parse_directives(model if isinstance(model, str) else ""))
    return completion.input_tokens, completion.output_tokens


def error_plan(api: Api, error: GatewayError, *, delay: float = 0.0) -> Plan:
    """An error answer, its body in the API's error shape."""
    data = anthropic_error_body(error) if api == "anthropic" else openai_error_body(error)
    return Plan(
        error.status, delay, JSON, Pieces.of(Piece(0.0, data)), length=len(data), error=error
    )


def status_error(status: int) -> GatewayError:
    """What ``+status=CODE`` answers: an upstream error with the status's reason phrase."""
    phrase = _REASON_PHRASES.get(status, "Error")
    return GatewayError("upstream", status, f"simulated upstream error: {status} {phrase}")


def _render_stream(
    api: Api, completion: Completion, model: str, created: int, body: dict[str, Any]
) -> Stream:
    if api == "anthropic":
        return anthropic_stream(completion, model)
    if api == "responses":
        return responses_stream(completion, model, created, body)
    options = body.get("stream_options")
    include_usage = isinstance(options, dict) and bool(options.get("include_usage"))
    return openai_stream(completion, model, created, include_usage=include_usage)


def _stream_plan(stream: Stream, directives: Directives, delay: float) -> Plan:
    per_token = 0.0 if directives.tps is None else 1 / directives.tps
    head, tokens, tail = stream.head, stream.tokens, stream.tail
    first_tail = len(head) + len(tokens)

    def piece(index: int) -> Piece:
        if index < len(head):
            return Piece(0.0, head[index])
        if index < first_tail:
            return Piece(per_token, tokens[index - len(head)])
        return Piece(0.0, tail[index - first_tail])

    pieces = Pieces(first_tail + len(tail), piece)
    half = len(pieces) // 2
    if directives.garbage:
        garbled = replace(pieces[half], data=_garble_event(pieces[half].data))
        pieces = pieces.changed(half, garbled).cut(half + 1)
    return _with_interruptions(Plan(200, delay, EVENT_STREAM, pieces), half, directives)


def _body_plan(data: bytes, directives: Directives, delay: float) -> Plan:
    if directives.garbage:
        data = data[: len(data) // 2]
    if not (directives.stall_ms or directives.reset):
        return Plan(200, delay, JSON, Pieces.of(Piece(0.0, data)), length=len(data))
    half = len(data) // 2
    halves = Pieces.of(Piece(0.0, data[:half]), Piece(0.0, data[half:]))
    return _with_interruptions(Plan(200, delay, JSON, halves, length=len(data)), 1, directives)


def _with_interruptions(plan: Plan, at: int, directives: Directives) -> Plan:
    """Apply ``+stall`` (a pause before piece ``at``) and ``+reset`` (stop before it)."""
    pieces = plan.pieces
    if directives.stall_ms:
        stalled = replace(pieces[at], pause=pieces[at].pause + directives.stall_ms / 1000)
        pieces = pieces.changed(at, stalled)
    if directives.reset:
        return replace(plan, pieces=pieces.cut(at), reset=True)
    return replace(plan, pieces=pieces)


def _garble_event(raw: bytes) -> bytes:
    """The same event with its JSON cut in half: well-framed SSE, invalid data."""
    (event,) = SSEParser().feed(raw)
    return encode_event(event.data[: len(event.data) // 2], event.event)
