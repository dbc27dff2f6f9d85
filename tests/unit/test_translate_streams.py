"""Stream translation: real SSE event sequences in, translated SSE bytes parsed back out.

Input events go through the gateway's own :class:`SSEParser`, as they would from an
upstream, and the output bytes are parsed back the same way. OpenAI output is also
accumulated by the openai SDK's own stream state; Anthropic output is validated event
by event against the anthropic SDK's stream event types.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from anthropic.types import RawMessageStreamEvent
from openai.lib.streaming.chat import ChatCompletionStreamState
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from pydantic import TypeAdapter

from llm_gateway.errors import GatewayError
from llm_gateway.sse import SSEEvent, SSEParser, encode_event
from llm_gateway.translate import AnthropicToOpenAIStream, OpenAIToAnthropicStream

CREATED = 1_790_000_000
ANTHROPIC_EVENT: TypeAdapter[Any] = TypeAdapter(RawMessageStreamEvent)


def clock() -> float:
    return CREATED + 0.5


def anthropic_events(*payloads: dict[str, Any]) -> list[SSEEvent]:
    raw = b"".join(encode_event(orjson.dumps(payload), payload["type"]) for payload in payloads)
    return SSEParser().feed(raw)


def openai_events(*chunks: dict[str, Any], done: bool = True) -> list[SSEEvent]:
    raw = b"".join(encode_event(orjson.dumps(chunk)) for chunk in chunks)
    return SSEParser().feed(raw + (b"data: [DONE]\n\n" if done else b""))


def run(
    translator: AnthropicToOpenAIStream | OpenAIToAnthropicStream, events: list[SSEEvent]
) -> list[SSEEvent]:
    out: list[bytes] = []
    for event in events:
        out.extend(translator.feed(event))
    out.extend(translator.finish())
    return SSEParser().feed(b"".join(out))


def openai_chunks(output: list[SSEEvent]) -> list[dict[str, Any]]:
    """The chunks of a translated OpenAI stream, checked to end with exactly one [DONE]."""
    assert [event.data for event in output].count(b"[DONE]") == 1
    assert output[-1].data == b"[DONE]"
    assert all(event.event is None for event in output)
    chunks = [orjson.loads(event.data) for event in output[:-1]]
    for chunk in chunks:
        ChatCompletionChunk.model_validate(chunk)
    return chunks


def openai_deltas(output: list[SSEEvent]) -> list[tuple[dict[str, Any], str | None]]:
    return [
        (chunk["choices"][0]["delta"], chunk["choices"][0]["finish_reason"])
        for chunk in openai_chunks(output)
        if chunk["choices"]
    ]


def accumulate(output: list[SSEEvent]) -> ChatCompletion:
    state: ChatCompletionStreamState[None] = ChatCompletionStreamState()
    for chunk in openai_chunks(output):
        state.handle_chunk(ChatCompletionChunk.model_validate(chunk))
    return state.get_final_completion()


def anthropic_payloads(output: list[SSEEvent]) -> list[dict[str, Any]]:
    """The events of a translated Anthropic stream, each checked against the SDK's types."""
    payloads = [orjson.loads(event.data) for event in output]
    for event, payload in zip(output, payloads, strict=True):
        assert event.event == payload["type"]
        ANTHROPIC_EVENT.validate_python(payload)
    return payloads


# Anthropic upstream events


def message_start(**usage: int) -> dict[str, Any]:
    return {
        "type": "message_start",
        "message": {
            "id": "msg_01XyZ",
            "type": "message",
            "role": "assistant",
            "model": "claude-test",
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 25, "output_tokens": 1, **usage},
        },
    }


def block_start(index: int, block: dict[str, Any]) -> dict[str, Any]:
    return {"type": "content_block_start", "index": index, "content_block": block}


def block_delta(index: int, delta: dict[str, Any]) -> dict[str, Any]:
    return {"type": "content_block_delta", "index": index, "delta": delta}


def text_delta(index: int, text: str) -> dict[str, Any]:
    return block_delta(index, {"type": "text_delta", "text": text})


def json_delta(index: int, partial_json: str) -> dict[str, Any]:
    return block_delta(index, {"type": "input_json_delta", "partial_json": partial_json})


def tool_use_start(index: int, tool_id: str, name: str) -> dict[str, Any]:
    return block_start(index, {"type": "tool_use", "id": tool_id, "name": name, "input": {}})


def block_stop(index: int) -> dict[str, Any]:
    return {"type": "content_block_stop", "index": index}


def message_delta(stop_reason: str, **usage: int) -> dict[str, Any]:
    return {
        "type": "message_delta",
        "delta": {"stop_reason": stop_reason, "stop_sequence": None},
        "usage": usage,
    }


MESSAGE_STOP = {"type": "message_stop"}
PING = {"type": "ping"}

ANTHROPIC_TEXT_STREAM = anthropic_events(
    message_start(),
    block_start(0, {"type": "text", "text": ""}),
    PING,
    text_delta(0, "Hello"),
    text_delta(0, ", world."),
    block_stop(0),
    message_delta("end_turn", output_tokens=7),
    MESSAGE_STOP,
)

ANTHROPIC_TOOL_STREAM = anthropic_events(
    message_start(),
    block_start(0, {"type": "text", "text": ""}),
    text_delta(0, "Checking."),
    block_stop(0),
    tool_use_start(1, "toolu_1", "get_weather"),
    json_delta(1, '{"ci'),
    json_delta(1, 'ty": "Par'),
    json_delta(1, 'is"}'),
    block_stop(1),
    tool_use_start(2, "toolu_2", "now"),
    json_delta(2, "{}"),
    block_stop(2),
    message_delta(
        "tool_use",
        input_tokens=25,
        output_tokens=30,
        cache_creation_input_tokens=0,
        cache_read_input_tokens=0,
    ),
    MESSAGE_STOP,
)


def test_anthropic_text_stream_becomes_exact_openai_chunks() -> None:
    output = run(AnthropicToOpenAIStream(include_usage=True, clock=clock), ANTHROPIC_TEXT_STREAM)

    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        return {
            "id": "chatcmpl-01XyZ",
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": "claude-test",
            "choices": [
                {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
            ],
            "usage": None,
        }

    assert openai_chunks(output) == [
        chunk({"role": "assistant", "content": ""}),
        chunk({"content": "Hello"}),
        chunk({"content": ", world."}),
        chunk({}, "stop"),
        {
            "id": "chatcmpl-01XyZ",
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": "claude-test",
            "choices": [],
            "usage": {
                "prompt_tokens": 25,
                "completion_tokens": 7,
                "total_tokens": 32,
                "prompt_tokens_details": {"cached_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 0},
            },
        },
    ]


def test_anthropic_stream_without_include_usage_has_no_usage_at_all() -> None:
    output = run(AnthropicToOpenAIStream(include_usage=False, clock=clock), ANTHROPIC_TEXT_STREAM)

    chunks = openai_chunks(output)
    assert all("usage" not in chunk for chunk in chunks)
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


def test_anthropic_tool_stream_becomes_openai_tool_call_deltas() -> None:
    output = run(AnthropicToOpenAIStream(include_usage=True, clock=clock), ANTHROPIC_TOOL_STREAM)

    assert openai_deltas(output) == [
        ({"role": "assistant", "content": ""}, None),
        ({"content": "Checking."}, None),
        (
            {
                "tool_calls": [
                    {
                        "index": 0,
                        "id": "toolu_1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": ""},
                    }
                ]
            },
            None,
        ),
        ({"tool_calls": [{"index": 0, "function": {"arguments": '{"ci'}}]}, None),
        ({"tool_calls": [{"index": 0, "function": {"arguments": 'ty": "Par'}}]}, None),
        ({"tool_calls": [{"index": 0, "function": {"arguments": 'is"}'}}]}, None),
        (
            {
                "tool_calls": [
                    {
                        "index": 1,
                        "id": "toolu_2",
                        "type": "function",
                        "function": {"name": "now", "arguments": ""},
                    }
                ]
            },
            None,
        ),
        ({"tool_calls": [{"index": 1, "function": {"arguments": "{}"}}]}, None),
        ({}, "tool_calls"),
    ]


def test_anthropic_tool_stream_accumulates_in_the_openai_sdk() -> None:
    events = anthropic_events(
        message_start(cache_read_input_tokens=100),
        block_start(0, {"type": "thinking", "thinking": ""}),
        block_delta(0, {"type": "thinking_delta", "thinking": "Two calls."}),
        block_delta(0, {"type": "signature_delta", "signature": "c2ln"}),
        block_stop(0),
        tool_use_start(1, "toolu_1", "get_weather"),
        json_delta(1, ""),
        json_delta(1, '{"city": '),
        json_delta(1, '"Paris"}'),
        block_stop(1),
        tool_use_start(2, "toolu_2", "get_weather"),
        json_delta(2, '{"city": "Rome"}'),
        block_stop(2),
        message_delta("tool_use", output_tokens=40),
        MESSAGE_STOP,
    )

    completion = accumulate(run(AnthropicToOpenAIStream(include_usage=True, clock=clock), events))

    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content == ""
    calls = [call.model_dump() for call in choice.message.tool_calls or ()]
    assert [
        (call["id"], call["function"]["name"], call["function"]["arguments"]) for call in calls
    ] == [
        ("toolu_1", "get_weather", '{"city": "Paris"}'),
        ("toolu_2", "get_weather", '{"city": "Rome"}'),
    ]
    assert completion.usage is not None
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (125, 40)


def test_anthropic_stream_token_counts_are_readable_as_they_arrive() -> None:
    stream = AnthropicToOpenAIStream(include_usage=False, clock=clock)
    start, *_, delta, stop = anthropic_events(
        message_start(cache_creation_input_tokens=10, cache_read_input_tokens=5),
        message_delta("end_turn", input_tokens=30, output_tokens=9),
        MESSAGE_STOP,
    )

    assert (stream.input_tokens, stream.output_tokens) == (0, 0)
    stream.feed(start)
    assert (stream.input_tokens, stream.output_tokens) == (40, 1)
    stream.feed(delta)
    assert (stream.input_tokens, stream.output_tokens) == (45, 9)
    stream.feed(stop)
    assert (stream.input_tokens, stream.output_tokens) == (45, 9)


def test_anthropic_unknown_event_types_are_ignored() -> None:
    stream = AnthropicToOpenAIStream(include_usage=False, clock=clock)
    stream.feed(anthropic_events(message_start())[0])

    assert stream.feed(anthropic_events({"type": "future_event", "value": 1})[0]) == []


def test_anthropic_stream_that_ends_before_message_start_is_an_upstream_error() -> None:
    stream = AnthropicToOpenAIStream(include_usage=True, clock=clock)
    stream.feed(anthropic_events(PING)[0])

    with pytest.raises(GatewayError, match="ended before any data") as caught:
        stream.finish()

    assert (caught.value.error_type, caught.value.status) == ("upstream", 502)


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        (
            b'event: error\ndata: {"type":"error","error":{"type":"overloaded_error",'
            b'"message":"Overloaded"}}\n\n',
            "Upstream failed mid-stream: overloaded_error: Overloaded",
        ),
        (b"event: content_block_delta\ndata: {not json\n\n", "not a JSON object"),
        (b"data: [1, 2]\n\n", "not a JSON object"),
        (
            b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0}\n\n',
            "missing field 'delta'",
        ),
    ],
)
def test_anthropic_stream_failure_is_an_upstream_error(raw: bytes, needle: str) -> None:
    stream = AnthropicToOpenAIStream(include_usage=True, clock=clock)
    stream.feed(anthropic_events(message_start())[0])

    with pytest.raises(GatewayError) as caught:
        stream.feed(SSEParser().feed(raw)[0])

    assert (caught.value.error_type, caught.value.status) == ("upstream", 502)
    assert needle in caught.value.message


# OpenAI upstream chunks


def openai_chunk(
    delta: dict[str, Any] | None = None, finish_reason: str | None = None, **choice: Any
) -> dict[str, Any]:
    return {
        "id": "chatcmpl-01XyZ",
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": "gpt-test",
        "choices": [
            {
                "index": 0,
                "delta": delta or {},
                "logprobs": None,
                "finish_reason": finish_reason,
                **choice,
            }
        ],
    }


def usage_chunk(prompt_tokens: int, completion_tokens: int, cached: int = 0) -> dict[str, Any]:
    return {
        "id": "chatcmpl-01XyZ",
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": "gpt-test",
        "choices": [],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": cached},
            "completion_tokens_details": {"reasoning_tokens": 0},
        },
    }


def tool_call_delta(index: int, *, arguments: str, **header: str) -> dict[str, Any]:
    """A ``tool_calls`` delta entry; the first one of a call carries ``id`` and ``name``."""
    call: dict[str, Any] = {"index": index, "function": {"arguments": arguments}}
    if header:
        call["id"] = header["id"]
        call["type"] = "function"
        call["function"]["name"] = header["name"]
    return {"tool_calls": [call]}


def anthropic_message_start(model: str = "gpt-test") -> dict[str, Any]:
    return {
        "type": "message_start",
        "message": {
            "id": "msg_01XyZ",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 0, "output_tokens": 0},
        },
    }


def anthropic_end(
    stop_reason: str, input_tokens: int, output_tokens: int, cache_read: int = 0
) -> list[dict[str, Any]]:
    return [
        {
            "type": "message_delta",
            "delta": {"stop_reason": stop_reason, "stop_sequence": None},
            "usage": {
                "input_tokens": input_tokens,
                "output_tokens": output_tokens,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": cache_read,
            },
        },
        MESSAGE_STOP,
    ]


def test_openai_text_stream_becomes_the_exact_anthropic_event_sequence() -> None:
    events = openai_events(
        openai_chunk({"role": "assistant", "content": ""}),
        openai_chunk({"content": "Hel"}),
        openai_chunk({"content": "lo."}),
        openai_chunk({}, "stop"),
        usage_chunk(12, 5),
    )

    output = anthropic_payloads(run(OpenAIToAnthropicStream(), events))

    assert output == [
        anthropic_message_start(),
        block_start(0, {"type": "text", "text": ""}),
        text_delta(0, "Hel"),
        text_delta(0, "lo."),
        block_stop(0),
        *anthropic_end("end_turn", 12, 5),
    ]


def test_openai_split_parallel_tool_calls_become_sequential_tool_use_blocks() -> None:
    events = openai_events(
        openai_chunk({"role": "assistant", "content": "Checking."}),
        openai_chunk(tool_call_delta(0, id="call_1", name="get_weather", arguments="")),
        openai_chunk(tool_call_delta(0, arguments='{"ci')),
        openai_chunk(tool_call_delta(0, arguments='ty": "Par')),
        openai_chunk(tool_call_delta(0, arguments='is"}')),
        openai_chunk(tool_call_delta(1, id="call_2", name="now", arguments="{")),
        openai_chunk(tool_call_delta(1, arguments="}")),
        openai_chunk({}, "tool_calls"),
        usage_chunk(40, 22),
    )

    output = anthropic_payloads(run(OpenAIToAnthropicStream(), events))

    assert output == [
        anthropic_message_start(),
        block_start(0, {"type": "text", "text": ""}),
        text_delta(0, "Checking."),
        block_stop(0),
        tool_use_start(1, "call_1", "get_weather"),
        json_delta(1, '{"ci'),
        json_delta(1, 'ty": "Par'),
        json_delta(1, 'is"}'),
        block_stop(1),
        tool_use_start(2, "call_2", "now"),
        json_delta(2, "{"),
        json_delta(2, "}"),
        block_stop(2),
        *anthropic_end("tool_use", 40, 22),
    ]


def test_openai_whole_tool_calls_in_one_chunk_without_indexes() -> None:
    calls = [
        {"id": "call_1", "type": "function", "function": {"name": "a", "arguments": "{}"}},
        {"id": "call_2", "type": "function", "function": {"name": "b", "arguments": '{"x":1}'}},
    ]
    events = openai_events(openai_chunk({"role": "assistant", "tool_calls": calls}, "stop"))

    output = anthropic_payloads(run(OpenAIToAnthropicStream(), events))

    assert output == [
        anthropic_message_start(),
        tool_use_start(0, "call_1", "a"),
        json_delta(0, "{}"),
        block_stop(0),
        tool_use_start(1, "call_2", "b"),
        json_delta(1, '{"x":1}'),
        block_stop(1),
        *anthropic_end("tool_use", 0, 0),
    ]


def test_openai_stream_without_usage_or_done_still_closes_the_message() -> None:
    events = openai_events(
        openai_chunk({"role": "assistant", "content": "Cut"}),
        openai_chunk({}, "length"),
        done=False,
    )
    stream = OpenAIToAnthropicStream()

    output = anthropic_payloads(run(stream, events))

    assert output[-3:] == [block_stop(0), *anthropic_end("max_tokens", 0, 0)]
    assert (stream.input_tokens, stream.output_tokens) == (0, 0)


def test_openai_matched_stop_string_becomes_the_stop_sequence() -> None:
    events = openai_events(openai_chunk({"content": "x"}, "stop", stop_reason="END"))

    message_delta_event = anthropic_payloads(run(OpenAIToAnthropicStream(), events))[-2]

    assert message_delta_event["delta"] == {"stop_reason": "stop_sequence", "stop_sequence": "END"}


def test_openai_stream_token_counts_are_readable_as_they_arrive() -> None:
    stream = OpenAIToAnthropicStream()
    text, usage = openai_events(openai_chunk({"content": "x"}), usage_chunk(9, 3), done=False)

    stream.feed(text)
    assert (stream.input_tokens, stream.output_tokens) == (0, 0)
    stream.feed(usage)
    assert (stream.input_tokens, stream.output_tokens) == (9, 3)


def test_openai_reasoning_stream_becomes_a_thinking_block_before_the_text() -> None:
    events = openai_events(
        openai_chunk({"role": "assistant", "reasoning_content": "Paris is "}),
        openai_chunk({"reasoning": "in France."}),
        openai_chunk({"content": "Paris."}),
        openai_chunk({}, "stop"),
        usage_chunk(1112, 5, cached=1000),
    )

    output = anthropic_payloads(run(OpenAIToAnthropicStream(), events))

    assert output[1:] == [
        block_start(0, {"type": "thinking", "thinking": "", "signature": ""}),
        block_delta(0, {"type": "thinking_delta", "thinking": "Paris is "}),
        block_delta(0, {"type": "thinking_delta", "thinking": "in France."}),
        block_stop(0),
        block_start(1, {"type": "text", "text": ""}),
        text_delta(1, "Paris."),
        block_stop(1),
        *anthropic_end("end_turn", 112, 5, cache_read=1000),
    ]


def test_openai_refusal_stream_becomes_text_with_the_refusal_stop_reason() -> None:
    events = openai_events(
        openai_chunk({"role": "assistant", "refusal": "I can't "}),
        openai_chunk({"refusal": "help with that."}),
        openai_chunk({}, "stop"),
    )

    output = anthropic_payloads(run(OpenAIToAnthropicStream(), events))

    assert output[1:] == [
        block_start(0, {"type": "text", "text": ""}),
        text_delta(0, "I can't "),
        text_delta(0, "help with that."),
        block_stop(0),
        *anthropic_end("refusal", 0, 0),
    ]


def test_openai_stream_that_ends_before_any_chunk_is_an_upstream_error() -> None:
    with pytest.raises(GatewayError, match="ended before any data") as caught:
        OpenAIToAnthropicStream().finish()

    assert (caught.value.error_type, caught.value.status) == ("upstream", 502)


@pytest.mark.parametrize(
    ("chunks", "needle"),
    [
        (
            [{"error": {"message": "model overloaded", "type": "server_error"}}],
            "Upstream failed mid-stream: server_error: model overloaded",
        ),
        (
            [
                openai_chunk(tool_call_delta(0, id="call_1", name="a", arguments="{")),
                openai_chunk(tool_call_delta(1, id="call_2", name="b", arguments="{")),
                openai_chunk(tool_call_delta(0, arguments="}")),
            ],
            "interleaved",
        ),
        ([{"choices": [{"index": 0, "delta": "text"}]}], "unexpected upstream reply"),
    ],
)
def test_openai_stream_failure_is_an_upstream_error(
    chunks: list[dict[str, Any]], needle: str
) -> None:
    stream = OpenAIToAnthropicStream()

    with pytest.raises(GatewayError) as caught:
        for event in openai_events(*chunks, done=False):
            stream.feed(event)

    assert (caught.value.error_type, caught.value.status) == ("upstream", 502)
    assert needle in caught.value.message


def test_openai_stream_data_that_is_not_json_is_an_upstream_error() -> None:
    with pytest.raises(GatewayError, match="not a JSON object") as caught:
        OpenAIToAnthropicStream().feed(SSEParser().feed(b"data: {oops\n\n")[0])

    assert (caught.value.error_type, caught.value.status) == ("upstream", 502)


def test_anthropic_thinking_streams_as_reasoning_content_and_signed_blocks() -> None:
    events = anthropic_events(
        message_start(cache_read_input_tokens=100),
        block_start(0, {"type": "thinking", "thinking": "", "signature": ""}),
        block_delta(0, {"type": "thinking_delta", "thinking": "Paris is "}),
        block_delta(0, {"type": "thinking_delta", "thinking": "in France."}),
        block_delta(0, {"type": "signature_delta", "signature": "c2ln"}),
        block_stop(0),
        block_start(1, {"type": "redacted_thinking", "data": "ZW5j"}),
        block_stop(1),
        block_start(2, {"type": "text", "text": ""}),
        text_delta(2, "Paris."),
        block_stop(2),
        message_delta("end_turn", output_tokens=30),
        MESSAGE_STOP,
    )

    output = run(AnthropicToOpenAIStream(include_usage=True, clock=clock), events)

    assert [delta for delta, _ in openai_deltas(output)] == [
        {"role": "assistant", "content": ""},
        {
            "reasoning_content": "Paris is ",
            "thinking_blocks": [{"index": 0, "type": "thinking", "thinking": "Paris is "}],
        },
        {
            "reasoning_content": "in France.",
            "thinking_blocks": [{"index": 0, "type": "thinking", "thinking": "in France."}],
        },
        {"thinking_blocks": [{"index": 0, "type": "thinking", "signature": "c2ln"}]},
        {"thinking_blocks": [{"index": 1, "type": "redacted_thinking", "data": "ZW5j"}]},
        {"content": "Paris."},
        {},
    ]
    usage = openai_chunks(output)[-1]["usage"]
    assert (usage["prompt_tokens"], usage["prompt_tokens_details"]) == (125, {"cached_tokens": 100})
    # 19 characters of thinking: an estimate of 5 tokens.
    assert usage["completion_tokens_details"] == {"reasoning_tokens": 5}
    # The openai SDK's own accumulator rebuilds the blocks, ready to be sent back.
    message = accumulate(output).choices[0].message.model_dump()
    assert message["content"] == "Paris."
    assert message["reasoning_content"] == "Paris is in France."
    assert message["thinking_blocks"] == [
        {"index": 0, "type": "thinking", "thinking": "Paris is in France.", "signature": "c2ln"},
        {"index": 1, "type": "redacted_thinking", "data": "ZW5j"},
    ]


def test_anthropic_answer_to_a_json_prefill_streams_its_brace_first() -> None:
    output = run(
        AnthropicToOpenAIStream(include_usage=False, prefill="{", clock=clock),
        ANTHROPIC_TEXT_STREAM,
    )

    assert accumulate(output).choices[0].message.content == "{Hello, world."


def test_anthropic_stream_round_trips_through_openai_chunks() -> None:
    to_openai = AnthropicToOpenAIStream(include_usage=True, clock=clock)
    openai_output = run(to_openai, ANTHROPIC_TOOL_STREAM)

    back = anthropic_payloads(run(OpenAIToAnthropicStream(), openai_output))

    original = [orjson.loads(event.data) for event in ANTHROPIC_TOOL_STREAM]
    # The OpenAI stream reports usage only at its end, so the rebuilt message_start
    # cannot know it yet; the totals arrive in message_delta instead.
    original[0]["message"]["usage"] = {"input_tokens": 0, "output_tokens": 0}
    assert back == original
