"""The Responses API over Chat Completions: requests, replies and streams, rule by rule."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from llm_gateway.errors import GatewayError
from llm_gateway.sse import SSEEvent, SSEParser
from llm_gateway.translate.responses_api.replies import chat_reply_to_response
from llm_gateway.translate.responses_api.requests import (
    ResponsesTemplate,
    ToolOrigin,
    responses_request_to_chat,
)
from llm_gateway.translate.responses_api.streams import ChatToResponsesStream
from llm_gateway.translate.responses_api.thinking import unseal

SCHEMA = {"type": "object", "properties": {"cmd": {"type": "string"}}, "required": ["cmd"]}
EXEC = {"type": "function", "name": "exec_command", "parameters": SCHEMA, "strict": False}
SPAWN = {"type": "function", "name": "spawn_agent", "description": "Spawn", "parameters": SCHEMA}
NAMESPACE = {"type": "namespace", "name": "agents", "description": "Agents", "tools": [SPAWN]}
PATCH = {
    "type": "custom",
    "name": "apply_patch",
    "description": "Patch files",
    "format": {"type": "grammar", "syntax": "lark", "definition": "start: /.+/"},
}


def test_a_codex_shaped_request() -> None:
    body = {
        "model": "m",
        "instructions": "Be careful.",
        "input": [
            {
                "type": "message",
                "role": "developer",
                "content": [{"type": "input_text", "text": "Rules"}],
            },
            {"role": "user", "content": "List files"},
            {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "xyz"},
            {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "output_text", "text": "Sure."}],
            },
            {
                "type": "function_call",
                "call_id": "c1",
                "name": "exec_command",
                "arguments": '{"cmd":"ls"}',
            },
            {
                "type": "function_call",
                "call_id": "c2",
                "namespace": "agents",
                "name": "spawn_agent",
                "arguments": "{}",
            },
            {"type": "function_call_output", "call_id": "c1", "output": "a.txt"},
            {
                "type": "function_call_output",
                "call_id": "c2",
                "output": [
                    {"type": "input_text", "text": "spawned"},
                    {"type": "input_image", "image_url": "data:image/png;base64,AAAA"},
                ],
            },
            {
                "type": "custom_tool_call",
                "call_id": "c3",
                "name": "apply_patch",
                "input": "*** patch",
            },
            {"type": "custom_tool_call_output", "call_id": "c3", "output": "done"},
        ],
        "tools": [EXEC, NAMESPACE, PATCH, {"type": "web_search"}, {"type": "web_search"}],
        "tool_choice": "auto",
        "parallel_tool_calls": True,
        "reasoning": {"effort": "high", "summary": "auto"},
        "store": False,
        "include": ["reasoning.encrypted_content"],
        "prompt_cache_key": "k",
        "client_metadata": {"x": "y"},
        "max_output_tokens": 300,
        "temperature": 0.5,
        "top_p": 0.9,
        "stream": True,
    }
    chat, template = responses_request_to_chat(body)
    assert chat == {
        "model": "m",
        "messages": [
            {"role": "system", "content": "Be careful."},
            {"role": "system", "content": [{"type": "text", "text": "Rules"}]},
            {"role": "user", "content": "List files"},
            {
                "role": "assistant",
                "content": "Sure.",
                "tool_calls": [
                    {
                        "id": "c1",
                        "type": "function",
                        "function": {"name": "exec_command", "arguments": '{"cmd":"ls"}'},
                    },
                    {
                        "id": "c2",
                        "type": "function",
                        "function": {"name": "spawn_agent", "arguments": "{}"},
                    },
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "a.txt"},
            {
                "role": "tool",
                "tool_call_id": "c2",
                "content": [{"type": "text", "text": "spawned"}],
            },
            {
                "role": "user",
                "content": [
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}
                ],
            },
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "c3",
                        "type": "function",
                        "function": {"name": "apply_patch", "arguments": '{"input":"*** patch"}'},
                    },
                ],
            },
            {"role": "tool", "tool_call_id": "c3", "content": "done"},
        ],
        "max_completion_tokens": 300,
        "temperature": 0.5,
        "top_p": 0.9,
        "tools": [
            {
                "type": "function",
                "function": {"name": "exec_command", "parameters": SCHEMA, "strict": False},
            },
            {
                "type": "function",
                "function": {"name": "spawn_agent", "description": "Spawn", "parameters": SCHEMA},
            },
            {
                "type": "function",
                "function": {
                    "name": "apply_patch",
                    "description": "Patch files",
                    "parameters": {
                        "type": "object",
                        "properties": {
                            "input": {
                                "type": "string",
                                "description": "The tool's input: text in this lark grammar:\nstart: /.+/",
                            }
                        },
                        "required": ["input"],
                        "additionalProperties": False,
                    },
                },
            },
        ],
        "tool_choice": "auto",
        "parallel_tool_calls": True,
        "reasoning_effort": "high",
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    assert template.dropped_tools == ("web_search",)
    assert template.origin("spawn_agent") == ToolOrigin("spawn_agent", "agents")
    assert template.origin("apply_patch") == ToolOrigin("apply_patch", custom=True)
    assert template.origin("unknown") == ToolOrigin("unknown")


def test_a_model_that_does_not_reason_gets_max_tokens_and_no_effort() -> None:
    body = {"model": "m", "input": "hi", "max_output_tokens": 9, "reasoning": {"effort": "low"}}
    chat, _ = responses_request_to_chat(body, reasoning_model=False)
    assert chat == {"model": "m", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 9}


def test_a_name_taken_twice_keeps_its_namespace() -> None:
    twin = {**EXEC, "name": "spawn_agent"}
    body = {
        "model": "m",
        "input": "hi",
        "tools": [twin, NAMESPACE],
        "tool_choice": {"type": "function", "name": "spawn_agent"},
    }
    chat, template = responses_request_to_chat(body)
    assert [tool["function"]["name"] for tool in chat["tools"]] == [
        "spawn_agent",
        "agents__spawn_agent",
    ]
    assert template.origin("agents__spawn_agent") == ToolOrigin("spawn_agent", "agents")
    assert chat["tool_choice"] == {"type": "function", "function": {"name": "spawn_agent"}}


@pytest.mark.parametrize(
    ("text_format", "expected"),
    [
        ({"type": "text"}, None),
        ({"type": "json_object"}, {"type": "json_object"}),
        (
            {"type": "json_schema", "name": "answer", "schema": SCHEMA, "strict": True},
            {
                "type": "json_schema",
                "json_schema": {"name": "answer", "strict": True, "schema": SCHEMA},
            },
        ),
    ],
)
def test_text_format_becomes_response_format(text_format: Any, expected: Any) -> None:
    chat, _ = responses_request_to_chat(
        {"model": "m", "input": "hi", "text": {"format": text_format}}
    )
    assert chat.get("response_format") == expected


def test_text_verbosity_becomes_chat_verbosity() -> None:
    chat, _ = responses_request_to_chat({"model": "m", "input": "hi", "text": {"verbosity": "low"}})
    assert chat["verbosity"] == "low"


def test_without_tools_left_there_is_no_tool_choice() -> None:
    body = {"model": "m", "input": "hi", "tools": [{"type": "web_search"}], "tool_choice": "auto"}
    chat, template = responses_request_to_chat(body)
    assert "tools" not in chat
    assert "tool_choice" not in chat
    assert template.dropped_tools == ("web_search",)


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"previous_response_id": "resp_1"}, "previous_response_id"),
        ({"conversation": "conv_1"}, "conversation"),
        ({"input": [{"type": "item_reference", "id": "msg_1"}]}, "input[0]"),
        ({"input": [{"type": "shiny_new_item"}]}, "input[0].type"),
        ({"tools": [EXEC], "tool_choice": {"type": "web_search"}}, "tool_choice"),
        ({"tools": [EXEC], "tool_choice": {"type": "function", "name": "nope"}}, "tool_choice"),
    ],
)
def test_what_cannot_be_translated_is_a_clear_400(fields: dict[str, Any], param: str) -> None:
    with pytest.raises(GatewayError) as caught:
        responses_request_to_chat({"model": "m", "input": "hi", **fields})
    assert (caught.value.status, caught.value.param) == (400, param)


TEMPLATE = ResponsesTemplate(
    {"model": "m", "input": "hi", "tools": [EXEC, NAMESPACE, PATCH], "instructions": "Be careful."},
    {
        "exec_command": ToolOrigin("exec_command"),
        "spawn_agent": ToolOrigin("spawn_agent", "agents"),
        "apply_patch": ToolOrigin("apply_patch", custom=True),
    },
)
USAGE = {
    "prompt_tokens": 100,
    "completion_tokens": 20,
    "total_tokens": 120,
    "prompt_tokens_details": {"cached_tokens": 60},
    "completion_tokens_details": {"reasoning_tokens": 5},
}


def chat_call(call_id: str, name: str, arguments: str) -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def test_a_reply_with_reasoning_text_and_every_kind_of_call() -> None:
    reply = {
        "id": "chatcmpl-abc",
        "created": 7,
        "model": "up",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "reasoning_content": "Thinking.",
                    "content": "Here.",
                    "tool_calls": [
                        chat_call("c1", "exec_command", '{"cmd":"ls"}'),
                        chat_call("c2", "spawn_agent", "{}"),
                        chat_call("c3", "apply_patch", '{"input":"*** patch"}'),
                    ],
                },
                "finish_reason": "tool_calls",
            }
        ],
        "usage": USAGE,
    }
    response = chat_reply_to_response(reply, TEMPLATE)
    assert (response["id"], response["object"], response["status"]) == (
        "resp_abc",
        "response",
        "completed",
    )
    assert (response["created_at"], response["model"]) == (7, "up")
    assert response["instructions"] == "Be careful."
    assert response["tools"] == TEMPLATE.request["tools"]
    assert [item["type"] for item in response["output"]] == [
        "reasoning",
        "message",
        "function_call",
        "function_call",
        "custom_tool_call",
    ]
    reasoning, message, exec_call, spawn, patch = response["output"]
    assert reasoning["content"] == [{"type": "reasoning_text", "text": "Thinking."}]
    assert message["content"][0]["text"] == "Here."
    assert (exec_call["call_id"], exec_call["name"], exec_call["arguments"]) == (
        "c1",
        "exec_command",
        '{"cmd":"ls"}',
    )
    assert "namespace" not in exec_call
    assert (spawn["namespace"], spawn["name"]) == ("agents", "spawn_agent")
    assert (patch["call_id"], patch["name"], patch["input"]) == ("c3", "apply_patch", "*** patch")
    assert response["usage"] == {
        "input_tokens": 100,
        "input_tokens_details": {"cached_tokens": 60},
        "output_tokens": 20,
        "output_tokens_details": {"reasoning_tokens": 5},
        "total_tokens": 120,
    }


def test_a_reply_cut_short_is_incomplete() -> None:
    reply = {
        "id": "chatcmpl-abc",
        "choices": [{"index": 0, "message": {"content": "Trunc"}, "finish_reason": "length"}],
        "usage": USAGE,
    }
    response = chat_reply_to_response(reply, TEMPLATE)
    assert response["status"] == "incomplete"
    assert response["incomplete_details"] == {"reason": "max_output_tokens"}


def chunk(delta: dict[str, Any], finish_reason: str | None = None, **extra: Any) -> SSEEvent:
    data = {
        "id": "chatcmpl-abc",
        "created": 7,
        "model": "up",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
        **extra,
    }
    return SSEParser().feed(b"data: " + orjson.dumps(data) + b"\n\n")[0]


def call_delta(index: int, arguments: str, name: str | None = None) -> dict[str, Any]:
    call: dict[str, Any] = {"index": index, "function": {"arguments": arguments}}
    if name is not None:
        call.update(id=f"c{index}", type="function")
        call["function"]["name"] = name
    return {"tool_calls": [call]}


def decode(chunks: list[bytes]) -> list[dict[str, Any]]:
    events = SSEParser().feed(b"".join(chunks))
    for event in events:
        assert event.event == orjson.loads(event.data)["type"]
    return [orjson.loads(event.data) for event in events]


def test_a_stream_in_the_documented_order() -> None:
    stream = ChatToResponsesStream(TEMPLATE)
    chunks: list[bytes] = []
    for event in (
        chunk({"role": "assistant", "reasoning_content": "Hm"}),
        chunk({"content": "He"}),
        chunk({"content": "re."}),
        chunk(call_delta(0, '{"cmd"', "exec_command")),
        chunk(call_delta(0, ':"ls"}')),
        chunk(call_delta(1, '{"input":', "apply_patch")),
        chunk(call_delta(1, '"*** p"}')),
        chunk({}, "tool_calls"),
        SSEParser().feed(
            b'data: {"id":"chatcmpl-abc","choices":[],"usage":' + orjson.dumps(USAGE) + b"}\n\n"
        )[0],
        SSEEvent(b"data: [DONE]\n\n", None, b"[DONE]"),
    ):
        chunks += stream.feed(event)
    chunks += stream.finish()
    events = decode(chunks)
    assert [event["type"] for event in events] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.reasoning_text.delta",
        "response.reasoning_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.output_item.added",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.output_item.added",
        "response.custom_tool_call_input.delta",
        "response.custom_tool_call_input.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [event["sequence_number"] for event in events] == list(range(len(events)))
    done_items = [event["item"] for event in events if event["type"] == "response.output_item.done"]
    final = events[-1]["response"]
    assert final["output"] == done_items
    assert final["status"] == "completed"
    assert final["usage"]["input_tokens_details"] == {"cached_tokens": 60}
    assert [
        item["output_index"] for item in events if item["type"] == "response.output_item.done"
    ] == [0, 1, 2, 3]
    message, call, patch = done_items[1:]
    assert message["content"][0]["text"] == "Here."
    assert (call["name"], call["arguments"], call["status"]) == (
        "exec_command",
        '{"cmd":"ls"}',
        "completed",
    )
    assert (patch["type"], patch["input"]) == ("custom_tool_call", "*** p")
    assert (stream.input_tokens, stream.output_tokens) == (100, 20)


def test_a_failure_mid_stream_is_response_failed() -> None:
    stream = ChatToResponsesStream(TEMPLATE)
    chunks = stream.feed(chunk({"content": "Hi"}))
    chunks += stream.fail(GatewayError("upstream", 502, "upstream connection reset"))
    events = decode(chunks)
    assert events[-1]["type"] == "response.failed"
    assert events[-1]["sequence_number"] == len(events) - 1
    assert events[-1]["response"]["status"] == "failed"
    assert events[-1]["response"]["error"] == {
        "code": "server_error",
        "message": "upstream connection reset",
    }


def test_interleaved_parallel_calls_are_an_upstream_error() -> None:
    stream = ChatToResponsesStream(TEMPLATE)
    stream.feed(chunk(call_delta(0, "{", "exec_command")))
    stream.feed(chunk(call_delta(1, "{", "spawn_agent")))
    with pytest.raises(GatewayError) as caught:
        stream.feed(chunk(call_delta(0, "}")))
    assert caught.value.error_type == "upstream"


SIGNED = [
    {"type": "thinking", "thinking": "Hm, ls.", "signature": "sig-1"},
    {"type": "redacted_thinking", "data": "opaque"},
]


def test_signed_thinking_goes_out_sealed_and_comes_back_to_the_assistant_turn() -> None:
    reply = {
        "id": "chatcmpl-abc",
        "choices": [
            {
                "index": 0,
                "message": {
                    "reasoning_content": "Hm, ls.",
                    "thinking_blocks": SIGNED,
                    "tool_calls": [chat_call("c1", "exec_command", '{"cmd":"ls"}')],
                },
                "finish_reason": "tool_calls",
            }
        ],
    }
    reasoning, call = chat_reply_to_response(reply, TEMPLATE)["output"]
    assert reasoning["content"] == [{"type": "reasoning_text", "text": "Hm, ls."}]
    assert unseal(reasoning["encrypted_content"]) == SIGNED
    history = [
        {"role": "user", "content": "List files"},
        reasoning,
        call,
        {"type": "function_call_output", "call_id": "c1", "output": "a.txt"},
        {"type": "reasoning", "summary": [], "encrypted_content": "gAAAA-openai-own"},
    ]
    chat, _ = responses_request_to_chat({"model": "m", "input": history, "tools": [EXEC]})
    assistant = chat["messages"][1]
    assert assistant["thinking_blocks"] == SIGNED
    assert assistant["reasoning_content"] == "Hm, ls."
    assert assistant["tool_calls"][0]["id"] == "c1"
    assert [message["role"] for message in chat["messages"]] == ["user", "assistant", "tool"]


def test_streamed_signed_thinking_is_sealed_into_its_reasoning_item() -> None:
    stream = ChatToResponsesStream(TEMPLATE)
    chunks: list[bytes] = []
    for delta in (
        {
            "reasoning_content": "Hm, ",
            "thinking_blocks": [{"index": 0, "type": "thinking", "thinking": "Hm, "}],
        },
        {
            "reasoning_content": "ls.",
            "thinking_blocks": [{"index": 0, "type": "thinking", "thinking": "ls."}],
        },
        {"thinking_blocks": [{"index": 0, "type": "thinking", "signature": "sig-1"}]},
        {"thinking_blocks": [{"index": 1, "type": "redacted_thinking", "data": "opaque"}]},
        {"content": "Done."},
    ):
        chunks += stream.feed(chunk(delta))
    chunks += stream.feed(chunk({}, "stop"))
    chunks += stream.finish()
    events = decode(chunks)
    done = [event["item"] for event in events if event["type"] == "response.output_item.done"]
    reasoning, message = done
    assert reasoning["content"] == [{"type": "reasoning_text", "text": "Hm, ls."}]
    assert unseal(reasoning["encrypted_content"]) == SIGNED
    assert message["content"][0]["text"] == "Done."
    assert events[-1]["response"]["output"] == done


def test_a_refusal_is_a_refusal_part_whole_and_streamed() -> None:
    reply = {
        "id": "chatcmpl-abc",
        "choices": [
            {
                "index": 0,
                "message": {"content": "I can't help.", "refusal": "I can't help."},
                "finish_reason": "content_filter",
            }
        ],
    }
    response = chat_reply_to_response(reply, TEMPLATE)
    assert response["output"][0]["content"] == [{"type": "refusal", "refusal": "I can't help."}]
    assert response["incomplete_details"] == {"reason": "content_filter"}

    stream = ChatToResponsesStream(TEMPLATE)
    chunks = stream.feed(chunk({"refusal": "I can't"}))
    chunks += stream.feed(chunk({"refusal": " help."}, "stop"))
    chunks += stream.finish()
    events = decode(chunks)
    assert [event["type"] for event in events][2:-1] == [
        "response.output_item.added",
        "response.content_part.added",
        "response.refusal.delta",
        "response.refusal.delta",
        "response.refusal.done",
        "response.content_part.done",
        "response.output_item.done",
    ]
    assert events[-4]["refusal"] == "I can't help."
    assert events[-1]["response"]["output"][0]["content"] == [
        {"type": "refusal", "refusal": "I can't help."}
    ]
