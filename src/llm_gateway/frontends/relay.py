"""Stream relays: turn an upstream's SSE events into the bytes the client receives.

Every relay reads the usage figures on the way through. The pass-through relays send each
event's original bytes; the translating relays (from :mod:`llm_gateway.translate`) build
new ones. Anything that is not the JSON the API promises raises, and the pipeline turns
that into an ``upstream`` error for the client.

The OpenAI and Anthropic pass-through relays decode only the events that can carry usage
or an error (found by name, or by a byte search for the key), and pass the text deltas
between them on after a glance at their braces: decoding each delta, and the garbage its
objects leave for the collector, was a good part of a relayed chunk's cost. An event cut
short or that is no object at all is still refused; one malformed inside its braces
reaches the client as the upstream wrote it, as through any proxy.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import orjson

from llm_gateway.apis import Api
from llm_gateway.errors import GatewayError
from llm_gateway.frontends.shapes import RESPONSES
from llm_gateway.sse import SSEEvent, SSEParser, encode_event
from llm_gateway.translate.errors import stream_error
from llm_gateway.translate.fields import anthropic_input_tokens
from llm_gateway.translate.responses_api.objects import error_object
from llm_gateway.translate.responses_api.requests import ResponsesTemplate
from llm_gateway.translate.responses_api.streams import ChatToResponsesStream
from llm_gateway.translate.streams import AnthropicToOpenAIStream, OpenAIToAnthropicStream


class StreamRelay(Protocol):
    input_tokens: int
    output_tokens: int

    def feed(self, event: SSEEvent) -> list[bytes]: ...

    def finish(self) -> list[bytes]: ...


def _json_object(event: SSEEvent) -> dict[str, Any]:
    data = orjson.loads(event.data)
    if not isinstance(data, dict):
        raise GatewayError(
            "upstream", 502, "Upstream sent a stream event that is not a JSON object"
        )
    return data


def _braced(data: bytes) -> bool:
    """Whether ``data`` could be a whole JSON object: not cut short, not a list or a word."""
    return data.startswith(b"{") and data.rstrip().endswith(b"}")


def _null_or_absent(data: bytes, key: bytes) -> bool:
    """Whether the quoted JSON ``key`` is nowhere in ``data`` but as ``key: null``.

    Inside a JSON string a quote is escaped, so ``key`` with its quotes matches only a key
    (or a whole string value equal to it, which reads as "present": decoded to be sure).
    """
    at = data.find(key)
    while at >= 0:
        at += len(key)
        rest = data[at : at + 16].lstrip()
        if not (rest.startswith(b":") and rest[1:].lstrip().startswith(b"null")):
            return False
        at = data.find(key, at)
    return True


class OpenAIPassThrough:
    """An OpenAI stream to an OpenAI client, bytes untouched.

    The gateway always asks the upstream for usage (``stream_options.include_usage``);
    when the client did not, the usage-only final chunk is dropped so that the client
    sees the stream it asked for.
    """

    def __init__(self, *, drop_usage_chunk: bool) -> None:
        self._drop_usage_chunk = drop_usage_chunk
        self.input_tokens = 0
        self.output_tokens = 0

    def feed(self, event: SSEEvent) -> list[bytes]:
        data = event.data
        if data == b"[DONE]":
            return [event.raw]
        if _braced(data) and _null_or_absent(data, b'"usage"') and b'"error"' not in data:
            # Nothing to read or to hide; with include_usage every chunk has "usage": null.
            return [event.raw]
        chunk = _json_object(event)
        if chunk.get("error") is not None:
            raise stream_error(event, "openai", chunk["error"])
        usage = chunk.get("usage")
        if isinstance(usage, dict):
            self.input_tokens = int(usage.get("prompt_tokens") or 0)
            self.output_tokens = int(usage.get("completion_tokens") or 0)
            if self._drop_usage_chunk and not chunk.get("choices"):
                return []
        return [event.raw]

    def finish(self) -> list[bytes]:
        return []


_ANTHROPIC_UNREAD = frozenset(
    ("content_block_delta", "content_block_start", "content_block_stop", "ping", "message_stop")
)
"""Named Anthropic events that carry neither usage nor an error."""


class AnthropicPassThrough:
    """An Anthropic stream to an Anthropic client, bytes untouched."""

    def __init__(self) -> None:
        self.input_tokens = 0
        self.output_tokens = 0

    def feed(self, event: SSEEvent) -> list[bytes]:
        if event.event in _ANTHROPIC_UNREAD and _braced(event.data):
            return [event.raw]
        data = _json_object(event)
        kind = event.event or data.get("type")
        if kind == "message_start":
            message = data.get("message")
            usage = message.get("usage") if isinstance(message, dict) else None
            if isinstance(usage, dict):
                self.input_tokens = anthropic_input_tokens(usage)
                self.output_tokens = int(usage.get("output_tokens") or 0)
        elif kind == "message_delta":
            usage = data.get("usage")
            if isinstance(usage, dict):
                # Output is cumulative here; input appears only when the upstream revises it.
                self.output_tokens = int(usage.get("output_tokens") or self.output_tokens)
                if usage.get("input_tokens") is not None:
                    self.input_tokens = anthropic_input_tokens(usage)
        elif kind == "error":
            raise stream_error(event, "anthropic", data.get("error"))
        return [event.raw]

    def finish(self) -> list[bytes]:
        return []


class ResponsesPassThrough:
    """A Responses API stream to a Responses client, bytes untouched.

    It remembers the response as ``response.created`` announced it and the last event's
    number, so that a failure the gateway finds (a reset, a timeout) can still end the
    stream the API's way: with a ``response.failed`` event that continues the numbering.
    The upstream's own ``response.failed`` or ``error`` event reaches the client as it was
    sent, and counts as the failure it is.
    """

    def __init__(self) -> None:
        self.input_tokens = 0
        self.output_tokens = 0
        self._response: dict[str, Any] = {"id": "", "object": "response", "output": []}
        self._next = 0

    def feed(self, event: SSEEvent) -> list[bytes]:
        data = _json_object(event)
        number = data.get("sequence_number")
        if isinstance(number, int):
            self._next = number + 1
        response = data.get("response")
        if isinstance(response, dict):
            self._response = response
            usage = response.get("usage")
            if isinstance(usage, dict):
                self.input_tokens, self.output_tokens = RESPONSES.usage(response)
        kind = event.event or data.get("type")
        if kind == "response.failed":
            # Counted as the failure it is; :meth:`fail` sends the event on as it came.
            raise stream_error(event, "responses", (response or {}).get("error"))
        if kind == "error":
            raise stream_error(event, "responses", data)
        return [event.raw]

    def finish(self) -> list[bytes]:
        return []

    def fail(self, error: GatewayError) -> list[bytes]:
        if error.upstream_api == "responses" and error.upstream_body is not None:
            kind = orjson.loads(error.upstream_body)["type"]
            return [encode_event(error.upstream_body, kind)]
        error_body = error_object(error.status, error.message)
        response = {**self._response, "status": "failed", "error": error_body}
        data = {"type": "response.failed", "sequence_number": self._next, "response": response}
        return [encode_event(orjson.dumps(data), "response.failed")]


@runtime_checkable
class FailingRelay(StreamRelay, Protocol):
    """A relay that writes the client's failure event itself.

    A Responses API stream numbers its events and ends a failure with the response so
    far, which only the relay that wrote the stream knows.
    """

    def fail(self, error: GatewayError) -> list[bytes]: ...


class Chained:
    """Two relays in a row: the events the first writes are what the second reads.

    The Responses API reaches an Anthropic upstream through Chat Completions, so its
    stream is Anthropic -> Chat -> Responses; token counts are the last relay's.
    """

    def __init__(self, first: StreamRelay, second: FailingRelay) -> None:
        self._first = first
        self._second = second
        self._parser = SSEParser()
        self.input_tokens = 0
        self.output_tokens = 0

    def feed(self, event: SSEEvent) -> list[bytes]:
        return self._pass_on(self._first.feed(event))

    def finish(self) -> list[bytes]:
        return self._pass_on(self._first.finish()) + self._second.finish()

    def fail(self, error: GatewayError) -> list[bytes]:
        return self._second.fail(error)

    def _pass_on(self, chunks: list[bytes]) -> list[bytes]:
        out: list[bytes] = []
        for chunk in chunks:
            for event in self._parser.feed(chunk):
                out.extend(self._second.feed(event))
        self.input_tokens = self._second.input_tokens
        self.output_tokens = self._second.output_tokens
        return out


def make_relay(
    upstream: Api,
    client: Api,
    *,
    client_wants_usage: bool,
    prefill: str = "",
    template: ResponsesTemplate | None = None,
) -> StreamRelay:
    """The relay from ``upstream``'s stream to ``client``'s; ``template`` is given when a
    Responses request was translated to Chat Completions."""
    if template is not None:
        to_responses = ChatToResponsesStream(template)
        if upstream == "anthropic":
            chat = AnthropicToOpenAIStream(include_usage=True, prefill=prefill)
            return Chained(chat, to_responses)
        return to_responses
    if client == "responses":
        return ResponsesPassThrough()
    if upstream == "openai" and client == "openai":
        return OpenAIPassThrough(drop_usage_chunk=not client_wants_usage)
    if upstream == "anthropic" and client == "anthropic":
        return AnthropicPassThrough()
    if upstream == "anthropic":
        return AnthropicToOpenAIStream(include_usage=client_wants_usage, prefill=prefill)
    return OpenAIToAnthropicStream()
