"""Stream relays: turn an upstream's SSE events into the bytes the client receives.

Every relay reads the usage figures on the way through. The pass-through relays send each
event's original bytes; the translating relays (from :mod:`llm_gateway.translate`) build
new ones. Anything that is not the JSON the API promises raises, and the pipeline turns
that into an ``upstream`` error for the client.
"""

from __future__ import annotations

from typing import Any, Protocol

import orjson

from llm_gateway.apis import Api
from llm_gateway.errors import GatewayError
from llm_gateway.frontends.shapes import anthropic_input_tokens
from llm_gateway.sse import SSEEvent
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


def _upstream_stream_error(error: object) -> GatewayError:
    message = error.get("message") if isinstance(error, dict) else error
    return GatewayError("upstream", 502, f"Upstream failed mid-stream: {message}")


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
        if event.data == b"[DONE]":
            return [event.raw]
        chunk = _json_object(event)
        if chunk.get("error") is not None:
            raise _upstream_stream_error(chunk["error"])
        usage = chunk.get("usage")
        if isinstance(usage, dict):
            self.input_tokens = int(usage.get("prompt_tokens") or 0)
            self.output_tokens = int(usage.get("completion_tokens") or 0)
            if self._drop_usage_chunk and not chunk.get("choices"):
                return []
        return [event.raw]

    def finish(self) -> list[bytes]:
        return []


class AnthropicPassThrough:
    """An Anthropic stream to an Anthropic client, bytes untouched."""

    def __init__(self) -> None:
        self.input_tokens = 0
        self.output_tokens = 0

    def feed(self, event: SSEEvent) -> list[bytes]:
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
            raise _upstream_stream_error(data.get("error"))
        return [event.raw]

    def finish(self) -> list[bytes]:
        return []


def make_relay(
    upstream: Api, client: Api, *, client_wants_usage: bool, prefill: str = ""
) -> StreamRelay:
    if upstream == "openai" and client == "openai":
        return OpenAIPassThrough(drop_usage_chunk=not client_wants_usage)
    if upstream == "anthropic" and client == "anthropic":
        return AnthropicPassThrough()
    if upstream == "anthropic":
        return AnthropicToOpenAIStream(include_usage=client_wants_usage, prefill=prefill)
    return OpenAIToAnthropicStream()
