"""The pass-through relays: bytes untouched, usage read, errors and non-objects caught."""

from __future__ import annotations

import pytest

from llm_gateway.errors import GatewayError
from llm_gateway.frontends.relay import AnthropicPassThrough, OpenAIPassThrough
from llm_gateway.sse import SSEEvent, SSEParser


def event(text: bytes) -> SSEEvent:
    (parsed,) = SSEParser().feed(text)
    return parsed


TEXT = b'data: {"choices":[{"index":0,"delta":{"content":"hi"}}],"usage":null}\n\n'
USAGE = b'data: {"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":3}}\n\n'


def test_openai_text_passes_as_it_came_and_usage_is_read_then_hidden() -> None:
    relay = OpenAIPassThrough(drop_usage_chunk=True)

    assert relay.feed(event(TEXT)) == [TEXT]
    assert relay.feed(event(USAGE)) == []
    assert relay.feed(event(b"data: [DONE]\n\n")) == [b"data: [DONE]\n\n"]
    assert (relay.input_tokens, relay.output_tokens) == (7, 3)
    assert OpenAIPassThrough(drop_usage_chunk=False).feed(event(USAGE)) == [USAGE]


@pytest.mark.parametrize(
    "data",
    [
        b'{"choices":[],"usage" :\t{"prompt_tokens":7,"completion_tokens":3}}',
        b'{"choices":[{"delta":{"content":"\\"usage\\": null"}}],'
        b'"usage":{"prompt_tokens":7,"completion_tokens":3}}',
        b'{"choices":[{"delta":{"content":"usage"}}],'
        b'"usage":{"prompt_tokens":7,"completion_tokens":3}}',
    ],
)
def test_openai_usage_is_read_however_the_upstream_writes_it(data: bytes) -> None:
    # Chunks whose usage is null are passed on unread; these must not be taken for one.
    relay = OpenAIPassThrough(drop_usage_chunk=False)
    relay.feed(event(b"data: " + data + b"\n\n"))
    assert (relay.input_tokens, relay.output_tokens) == (7, 3)


@pytest.mark.parametrize(
    "data",
    [
        b'{"error":{"message":"overloaded"}}',
        b'{"choices":[], "error": "overloaded"}',
    ],
)
def test_an_openai_error_mid_stream_is_raised(data: bytes) -> None:
    with pytest.raises(GatewayError, match="overloaded"):
        OpenAIPassThrough(drop_usage_chunk=True).feed(event(b"data: " + data + b"\n\n"))


@pytest.mark.parametrize("data", [b"[1, 2]", b'{"choices": [', b"not json"])
def test_an_openai_event_that_is_no_json_object_is_refused(data: bytes) -> None:
    with pytest.raises((GatewayError, ValueError)):
        OpenAIPassThrough(drop_usage_chunk=True).feed(event(b"data: " + data + b"\n\n"))


def anthropic(name: str, data: bytes) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + data + b"\n\n"


def test_anthropic_text_passes_as_it_came_and_usage_is_read() -> None:
    relay = AnthropicPassThrough()
    start = anthropic(
        "message_start", b'{"type":"message_start","message":{"usage":{"input_tokens":5}}}'
    )
    delta = anthropic(
        "content_block_delta", b'{"type":"content_block_delta","delta":{"text":"hi"}}'
    )
    usage = anthropic("message_delta", b'{"type":"message_delta","usage":{"output_tokens":9}}')

    assert [relay.feed(event(raw)) for raw in (start, delta, usage)] == [[start], [delta], [usage]]
    assert (relay.input_tokens, relay.output_tokens) == (5, 9)


@pytest.mark.parametrize("name", ["error", None])
def test_an_anthropic_error_mid_stream_is_raised(name: str | None) -> None:
    data = b'{"type":"error","error":{"message":"overloaded"}}'
    raw = anthropic(name, data) if name else b"data: " + data + b"\n\n"
    with pytest.raises(GatewayError, match="overloaded"):
        AnthropicPassThrough().feed(event(raw))


def test_an_anthropic_event_that_is_no_json_object_is_refused() -> None:
    with pytest.raises(ValueError):
        AnthropicPassThrough().feed(event(anthropic("content_block_delta", b'{"type": "cut')))
