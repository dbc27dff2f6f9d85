"""The simulator keeps the API contract: tool_choice in all three APIs, and the Responses API's
own objects and event order."""

from __future__ import annotations

import tracemalloc
from typing import Any

import orjson
import pytest

from llm_gateway.errors import GatewayError
from llm_gateway.sim.completion import complete
from llm_gateway.sim.directives import parse_directives
from llm_gateway.sim.engine import plan
from llm_gateway.sim.responses_wire import responses_stream
from llm_gateway.sse import SSEParser

SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
TOOLS: dict[str, list[Any]] = {
    "openai": [
        {"type": "function", "function": {"name": "first", "parameters": SCHEMA}},
        {"type": "function", "function": {"name": "second", "parameters": SCHEMA}},
    ],
    "anthropic": [
        {"name": "first", "input_schema": SCHEMA},
        {"name": "second", "input_schema": SCHEMA},
    ],
    "responses": [
        {"type": "web_search"},
        {"type": "function", "name": "first", "parameters": SCHEMA},
        {"type": "function", "name": "second", "parameters": SCHEMA},
    ],
}
NAMED = {
    "openai": {"type": "function", "function": {"name": "second"}},
    "anthropic": {"type": "tool", "name": "second"},
    "responses": {"type": "function", "name": "second"},
}
REQUIRED = {"openai": "required", "anthropic": {"type": "any"}, "responses": "required"}
NONE = {"openai": "none", "anthropic": {"type": "none"}, "responses": "none"}


def request(api: str, model: str = "sim", **fields: Any) -> dict[str, Any]:
    question = [{"role": "user", "content": "Weather in Oslo?"}]
    body: dict[str, Any] = {"model": model, "tools": TOOLS[api], **fields}
    body["input" if api == "responses" else "messages"] = question
    if api == "anthropic":
        body["max_tokens"] = 100
    return body


def called(api: Any, body: dict[str, Any]) -> str | None:
    call = complete(api, body, parse_directives(body["model"])).tool_call
    return None if call is None else call.name


@pytest.mark.parametrize("api", ["openai", "anthropic", "responses"])
def test_tool_choice_is_honoured(api: Any) -> None:
    assert called(api, request(api)) is None
    assert called(api, request(api, "sim+tool")) == "first"
    assert called(api, request(api, tool_choice=REQUIRED[api])) == "first"
    assert called(api, request(api, tool_choice=NAMED[api])) == "second"
    assert called(api, request(api, "sim+tool", tool_choice=NONE[api])) is None


@pytest.mark.parametrize("api", ["openai", "anthropic", "responses"])
def test_a_named_tool_that_is_not_offered_is_a_validation_error(api: Any) -> None:
    offered = [tool for tool in TOOLS[api] if b"second" not in orjson.dumps(tool)]
    body = request(api, tools=offered, tool_choice=NAMED[api])
    with pytest.raises(GatewayError) as caught:
        complete(api, body, parse_directives("sim"))
    assert caught.value.param == "tool_choice"


RESULTS: dict[str, list[Any]] = {
    "openai": [
        {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function", "function": {}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "Sunny"},
    ],
    "anthropic": [
        {"role": "assistant", "content": [{"type": "tool_use", "id": "c1", "name": "first"}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "c1"}]},
    ],
    "responses": [
        {"type": "function_call", "call_id": "c1", "name": "first", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "c1", "output": "Sunny"},
    ],
}


@pytest.mark.parametrize("api", ["openai", "anthropic", "responses"])
def test_the_tool_directive_answers_a_tool_result_in_words(api: Any) -> None:
    body = request(api, "sim+tool")
    body["input" if api == "responses" else "messages"] += RESULTS[api]
    assert called(api, body) is None
    assert called(api, {**body, "tool_choice": REQUIRED[api]}) == "first"


def test_namespace_and_custom_tools_are_called_as_offered() -> None:
    namespaced = {
        "type": "namespace",
        "name": "agents",
        "tools": [{"type": "function", "name": "spawn", "parameters": SCHEMA}],
    }
    custom = {"type": "custom", "name": "apply_patch", "description": "A patch"}
    body = request("responses", "sim+tool", tools=[namespaced, custom])
    call = complete("responses", body, parse_directives("sim+tool")).tool_call
    assert call is not None
    assert (call.namespace, call.name, call.custom) == ("agents", "spawn", False)
    body["tool_choice"] = {"type": "custom", "name": "apply_patch"}
    call = complete("responses", body, parse_directives("sim")).tool_call
    assert call is not None
    assert (call.name, call.custom, call.arguments) == ("apply_patch", True, "sample")


def test_a_response_object() -> None:
    body = request("responses", "sim+tokens=3", instructions="Be brief.", max_output_tokens=2)
    response = orjson.loads(plan("responses", body, stream=False, created=5).body)
    assert response["object"] == "response"
    assert response["id"].startswith("resp_")
    assert (response["status"], response["incomplete_details"]) == (
        "incomplete",
        {"reason": "max_output_tokens"},
    )
    assert (response["instructions"], response["tools"]) == ("Be brief.", TOOLS["responses"])
    (message,) = response["output"]
    assert message["type"] == "message"
    assert message["content"][0]["type"] == "output_text"
    assert len(message["content"][0]["text"].split(" ")) == 2
    usage = response["usage"]
    assert usage["output_tokens"] == 2
    assert usage["total_tokens"] == usage["input_tokens"] + 2
    assert usage["input_tokens_details"] == {"cached_tokens": 0}


def stream_events(body: dict[str, Any]) -> list[Any]:
    reply = plan("responses", body, stream=True, created=5)
    parser = SSEParser()
    events = [event for piece in reply.pieces for event in parser.feed(piece.data)]
    assert all(event.event == event.json()["type"] for event in events)  # type: ignore[index]
    return [event.json() for event in events]


def test_a_text_stream_in_the_documented_order() -> None:
    events = stream_events(request("responses", "sim+tokens=2"))
    assert [event["type"] for event in events] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [event["sequence_number"] for event in events] == list(range(len(events)))
    text = "".join(event["delta"] for event in events if "delta" in event)
    assert events[6]["text"] == text
    assert events[8]["item"]["content"][0]["text"] == text
    assert events[8]["item"]["status"] == "completed"
    assert events[-1]["response"]["output"] == [events[8]["item"]]
    assert events[-1]["response"]["usage"]["output_tokens"] == 2
    assert events[0]["response"]["status"] == "in_progress"


def test_a_tool_call_stream() -> None:
    events = stream_events(request("responses", "sim+tool"))
    kinds = [event["type"] for event in events]
    assert kinds[2] == "response.output_item.added"
    assert set(kinds[3:-3]) == {"response.function_call_arguments.delta"}
    assert kinds[-3:] == [
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.completed",
    ]
    item = events[-2]["item"]
    assert item["type"] == "function_call"
    assert (item["name"], item["arguments"]) == ("first", '{"city":"sample"}')
    assert events[-3]["arguments"] == item["arguments"]


def test_a_long_responses_stream_is_made_as_it_is_read() -> None:
    """Its events cost memory (and the loop's time) one at a time, as they are sent: a
    100,000-token stream's plan holds its text, not 100,000 encoded events."""
    model = "sim+tokens=100000"
    body: dict[str, Any] = {"model": model, "input": "hi", "stream": True}
    completion = complete("responses", body, parse_directives(model))
    tracemalloc.start()
    try:
        stream = responses_stream(completion, "sim", 0, body)
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    text_bytes = len(completion.text)
    # The closing events repeat the text (about 4x); 100,000 encoded events would be 45x.
    assert held < 10 * text_bytes
    (event,) = SSEParser().feed(stream.tokens[99_999])
    assert orjson.loads(event.data)["sequence_number"] == len(stream.head) + 99_999
