"""Plans: the exact wire bytes of both API shapes, and every fault applied where documented."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from llm_gateway.sim.engine import EVENT_STREAM, JSON, Plan, expected_usage, plan
from llm_gateway.sse import SSEEvent, SSEParser

CREATED = 1_700_000_000


def openai_request(model: str = "sim+tokens=4", **fields: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": "Hello, simulator"}], **fields}


def anthropic_request(model: str = "sim+tokens=4", **fields: Any) -> dict[str, Any]:
    return {"max_tokens": 100, **openai_request(model, **fields)}


WEATHER = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
    "required": ["city", "days"],
}
OPENAI_TOOLS = [{"type": "function", "function": {"name": "weather", "parameters": WEATHER}}]
ANTHROPIC_TOOLS = [{"name": "weather", "input_schema": WEATHER}]


def events_of(reply: Plan) -> list[SSEEvent]:
    parser = SSEParser()
    events = [event for piece in reply.pieces for event in parser.feed(piece.data)]
    assert parser.pending == b""
    return events


def delta_text(events: list[SSEEvent]) -> list[str]:
    """The text pieces in a stream of either shape, one per token event."""
    pieces = []
    for event in events:
        data: Any = event.json() if event.data != b"[DONE]" else {}
        if data.get("choices"):
            pieces.append(data["choices"][0]["delta"].get("content"))
        elif data.get("type") == "content_block_delta":
            pieces.append(data["delta"]["text"])
    return [piece for piece in pieces if piece]


def json_events(reply: Plan) -> list[Any]:
    return [event.json() for event in events_of(reply) if event.data != b"[DONE]"]


def test_openai_body() -> None:
    reply = plan("openai", openai_request(), stream=False, created=CREATED)
    assert (reply.status, reply.media_type, reply.delay, reply.reset) == (200, JSON, 0.0, False)
    assert reply.length == len(reply.body)
    body = orjson.loads(reply.body)
    assert body["object"] == "chat.completion"
    assert body["id"].startswith("chatcmpl-")
    assert (body["created"], body["model"]) == (CREATED, "sim+tokens=4")
    (choice,) = body["choices"]
    assert choice["finish_reason"] == "stop"
    assert choice["message"]["role"] == "assistant"
    assert len(choice["message"]["content"].split(" ")) == 4
    assert body["usage"] == {"prompt_tokens": 4, "completion_tokens": 4, "total_tokens": 8}
    assert expected_usage("openai", openai_request()) == (4, 4)


def test_plans_are_deterministic() -> None:
    for stream in (False, True):
        first = plan("anthropic", anthropic_request("sim"), stream=stream, created=CREATED)
        assert first == plan("anthropic", anthropic_request("sim"), stream=stream, created=CREATED)


def test_openai_stream_without_usage() -> None:
    reply = plan("openai", openai_request(), stream=True, created=CREATED)
    assert reply.media_type == EVENT_STREAM
    assert reply.length is None
    events = events_of(reply)
    assert events[-1].raw == b"data: [DONE]\n\n"
    chunks = json_events(reply)
    assert all("usage" not in chunk for chunk in chunks)
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": "", "refusal": None}
    text = "".join(chunk["choices"][0]["delta"].get("content", "") for chunk in chunks)
    body = orjson.loads(plan("openai", openai_request(), stream=False, created=CREATED).body)
    assert text == body["choices"][0]["message"]["content"]
    assert [chunk["choices"][0]["finish_reason"] for chunk in chunks] == [None] * 5 + ["stop"]
    assert {chunk["object"] for chunk in chunks} == {"chat.completion.chunk"}


def test_openai_stream_with_usage_ends_with_a_usage_only_chunk() -> None:
    body = openai_request(stream_options={"include_usage": True})
    chunks = json_events(plan("openai", body, stream=True, created=CREATED))
    *others, last = chunks
    assert all(chunk["usage"] is None for chunk in others)
    assert last["choices"] == []
    assert last["usage"] == {"prompt_tokens": 4, "completion_tokens": 4, "total_tokens": 8}


def test_anthropic_body() -> None:
    body = orjson.loads(plan("anthropic", anthropic_request(), stream=False, created=CREATED).body)
    assert body["type"] == "message"
    assert body["id"].startswith("msg_")
    (block,) = body["content"]
    assert block["type"] == "text"
    assert len(block["text"].split(" ")) == 4
    assert (body["stop_reason"], body["stop_sequence"]) == ("end_turn", None)
    assert body["usage"]["input_tokens"] == 4
    assert body["usage"]["output_tokens"] == 4


def test_anthropic_stream_sends_the_events_in_order() -> None:
    reply = plan("anthropic", anthropic_request(), stream=True, created=CREATED)
    events = events_of(reply)
    assert [event.event for event in events] == [
        "message_start",
        "content_block_start",
        "ping",
        *["content_block_delta"] * 4,
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    data = [event.json() for event in events]
    assert all(
        isinstance(d, dict) and d["type"] == e.event for d, e in zip(data, events, strict=True)
    )
    start, message_delta = events[0].json(), events[-2].json()
    assert isinstance(start, dict) and isinstance(message_delta, dict)
    assert start["message"]["usage"]["input_tokens"] == 4
    assert message_delta["delta"] == {"stop_reason": "end_turn", "stop_sequence": None}
    assert message_delta["usage"] == {"output_tokens": 4}
    text = "".join(delta_text(events))
    body = orjson.loads(plan("anthropic", anthropic_request(), stream=False, created=CREATED).body)
    assert text == body["content"][0]["text"]


@pytest.mark.parametrize(("api", "reason"), [("openai", "length"), ("anthropic", "max_tokens")])
def test_max_tokens_stops_for_length(api: Any, reason: str) -> None:
    reply = orjson.loads(plan(api, anthropic_request(max_tokens=2), stream=False, created=0).body)
    if api == "openai":
        assert reply["choices"][0]["finish_reason"] == reason
        assert reply["usage"]["completion_tokens"] == 2
    else:
        assert (reply["stop_reason"], reply["stop_sequence"]) == (reason, None)
        assert reply["usage"]["output_tokens"] == 2


def test_a_stop_sequence_that_appears_stops_the_answer() -> None:
    second_word = delta_text(events_of(plan("openai", openai_request(), stream=True, created=0)))[1]
    openai_reply = plan("openai", openai_request(stop=second_word), stream=False, created=0)
    assert orjson.loads(openai_reply.body)["choices"][0]["finish_reason"] == "stop"
    body = anthropic_request(stop_sequences=[second_word])
    anthropic_reply = orjson.loads(plan("anthropic", body, stream=False, created=0).body)
    assert (anthropic_reply["stop_reason"], anthropic_reply["stop_sequence"]) == (
        "stop_sequence",
        second_word,
    )
    assert anthropic_reply["usage"]["output_tokens"] == 1


def test_openai_tool_call() -> None:
    body = openai_request("sim+tool", tools=OPENAI_TOOLS)
    reply = orjson.loads(plan("openai", body, stream=False, created=0).body)
    (choice,) = reply["choices"]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] is None
    (call,) = choice["message"]["tool_calls"]
    assert call["type"] == "function"
    assert call["function"]["name"] == "weather"
    assert orjson.loads(call["function"]["arguments"]) == {"city": "sample", "days": 1}

    chunks = json_events(plan("openai", body, stream=True, created=0))
    opening = chunks[0]["choices"][0]["delta"]["tool_calls"][0]
    assert (opening["id"], opening["function"]) == (
        call["id"],
        {"name": "weather", "arguments": ""},
    )
    arguments = "".join(
        c["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"] for c in chunks[1:-1]
    )
    assert arguments == call["function"]["arguments"]
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


def test_anthropic_tool_use() -> None:
    body = anthropic_request("sim+tool", tools=ANTHROPIC_TOOLS)
    reply = orjson.loads(plan("anthropic", body, stream=False, created=0).body)
    (block,) = reply["content"]
    assert block["type"] == "tool_use"
    assert (block["name"], block["input"]) == ("weather", {"city": "sample", "days": 1})
    assert reply["stop_reason"] == "tool_use"

    data = json_events(plan("anthropic", body, stream=True, created=0))
    assert data[1]["content_block"] == {
        "type": "tool_use",
        "id": block["id"],
        "name": "weather",
        "input": {},
    }
    partial = "".join(
        d["delta"]["partial_json"] for d in data if d["type"] == "content_block_delta"
    )
    assert orjson.loads(partial) == block["input"]
    assert data[-2]["delta"]["stop_reason"] == "tool_use"


@pytest.mark.parametrize(
    ("api", "expected"),
    [
        (
            "openai",
            {
                "error": {
                    "message": "simulated upstream error: 429 Too Many Requests",
                    "type": "rate_limit_error",
                    "param": None,
                    "code": "upstream",
                }
            },
        ),
        (
            "anthropic",
            {
                "type": "error",
                "error": {
                    "type": "rate_limit_error",
                    "message": "simulated upstream error: 429 Too Many Requests",
                },
            },
        ),
    ],
)
def test_status_directive_answers_an_error_in_the_api_shape(api: Any, expected: Any) -> None:
    body = anthropic_request("sim+status=429+delay=30")
    reply = plan(api, body, stream=True, created=0)
    assert (reply.status, reply.delay, reply.media_type) == (429, 0.03, JSON)
    assert orjson.loads(reply.body) == expected
    assert reply.error is not None
    assert (reply.error.error_type, reply.error.status) == ("upstream", 429)


def test_status_529_is_anthropic_overloaded() -> None:
    reply = plan("anthropic", anthropic_request("sim+status=529"), stream=False, created=0)
    assert orjson.loads(reply.body)["error"] == {
        "type": "overloaded_error",
        "message": "simulated upstream error: 529 Overloaded",
    }


def test_unknown_directive_is_a_400_validation_body() -> None:
    reply = plan("openai", openai_request("sim+turbo"), stream=False, created=0)
    assert reply.status == 400
    error = orjson.loads(reply.body)["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"] == "model"
    assert error["message"] == "unknown simulator directive 'turbo' in model 'sim+turbo'"


def test_a_bad_request_is_a_400_in_the_api_shape() -> None:
    reply = plan("anthropic", {"model": "sim", "messages": []}, stream=False, created=0)
    assert reply.status == 400
    assert orjson.loads(reply.body)["type"] == "error"
    assert plan("openai", {"messages": []}, stream=False, created=0).status == 400


def test_delay_is_before_the_headers() -> None:
    reply = plan("openai", openai_request("sim+delay=250"), stream=True, created=0)
    assert reply.delay == 0.25
    assert all(piece.pause == 0 for piece in reply.pieces)


def test_tps_paces_each_token_event() -> None:
    reply = plan("anthropic", anthropic_request("sim+tokens=4+tps=50"), stream=True, created=0)
    pauses = [
        (event.event, piece.pause)
        for event, piece in zip(events_of(reply), reply.pieces, strict=True)
    ]
    assert [pause for name, pause in pauses if name == "content_block_delta"] == [0.02] * 4
    assert sum(pause for _, pause in pauses) == pytest.approx(4 / 50)


def test_tps_delays_a_whole_body_by_its_generation_time() -> None:
    reply = plan(
        "openai", openai_request("sim+tokens=10+tps=20+delay=100"), stream=False, created=0
    )
    assert reply.delay == pytest.approx(0.1 + 10 / 20)


def test_stall_pauses_a_stream_half_way() -> None:
    plain = plan("openai", openai_request(), stream=True, created=0)
    stalled = plan("openai", openai_request("sim+tokens=4+stall=700"), stream=True, created=0)
    half = len(plain.pieces) // 2
    assert [piece.pause for piece in stalled.pieces] == [
        0.7 if i == half else 0.0 for i in range(len(plain.pieces))
    ]
    assert delta_text(events_of(stalled)) == delta_text(events_of(plain))


def test_stall_splits_a_body_in_two() -> None:
    reply = plan("openai", openai_request("sim+stall=500"), stream=False, created=0)
    first, second = reply.pieces
    assert (first.pause, second.pause) == (0.0, 0.5)
    assert len(first.data) == len(reply.body) // 2
    assert reply.length == len(reply.body)
    orjson.loads(reply.body)


@pytest.mark.parametrize("api", ["openai", "anthropic"])
def test_reset_stops_a_stream_after_its_first_half(api: Any) -> None:
    whole = events_of(plan(api, anthropic_request(), stream=True, created=0))
    reply = plan(api, anthropic_request("sim+tokens=4+reset"), stream=True, created=0)
    events = events_of(reply)
    assert reply.reset
    assert len(events) == len(whole) // 2 >= 1
    assert [event.event for event in events] == [event.event for event in whole[: len(events)]]
    assert delta_text(events) == delta_text(whole[: len(events)])


def test_reset_stops_a_body_half_way_but_announces_its_full_length() -> None:
    reply = plan("anthropic", anthropic_request("sim+reset"), stream=False, created=0)
    assert reply.reset
    (first,) = reply.pieces
    assert reply.length is not None
    assert len(first.data) == reply.length // 2


def test_garbage_body_is_half_the_json() -> None:
    reply = plan("openai", openai_request("sim+garbage"), stream=False, created=0)
    assert reply.status == 200
    assert reply.length == len(reply.body)
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(reply.body)
    assert reply.body.startswith(b'{"id":"chatcmpl-')


@pytest.mark.parametrize("api", ["openai", "anthropic"])
def test_garbage_stream_ends_with_a_cut_event(api: Any) -> None:
    whole = events_of(plan(api, anthropic_request(), stream=True, created=0))
    events = events_of(plan(api, anthropic_request("sim+tokens=4+garbage"), stream=True, created=0))
    assert len(events) == len(whole) // 2 + 1
    *good, bad = events
    for event in good:
        event.json()
    with pytest.raises(orjson.JSONDecodeError):
        bad.json()
    assert bad.event == whole[len(good)].event
