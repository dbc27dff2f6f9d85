"""What a Responses API request becomes on the wire, field by field, on every kind of route.

The ``openai`` SDK sends one request with every feature that translates (and some that
cannot) through a real gateway to :mod:`tests.fakes.recording_upstream`, which records
what arrives: Chat Completions on an ``openai`` route, Anthropic Messages on an
``anthropic`` route, and the client's own request on a ``responses = "pass-through"``
route. Streaming and not, the upstream must get the same body, and the client the same
answer.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import openai
import orjson
import pytest

from tests.fakes.recording_upstream import (
    ANTHROPIC_PATH,
    OPENAI_PATH,
    RESPONSES_PATH,
    USAGE_IN,
    USAGE_OUT,
    RecordingUpstream,
    Reply,
    anthropic_sse,
    running_recording_upstream,
    sse,
)
from tests.integration.conftest import API_KEY
from tests.processes import RunningServer, running

SCHEMA = {"type": "object", "properties": {"cmd": {"type": "string"}}, "required": ["cmd"]}
EMPTY = {"type": "object", "properties": {}}
REQUEST: Any = {
    "instructions": "Be careful.",
    "input": [
        {
            "type": "message",
            "role": "developer",
            "content": [{"type": "input_text", "text": "Rules"}],
        },
        {
            "role": "user",
            "content": [
                {"type": "input_text", "text": "Look"},
                {"type": "input_image", "image_url": "https://example.com/a.png"},
            ],
        },
        {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "gAAAA"},
        {
            "type": "function_call",
            "call_id": "c1",
            "name": "exec_command",
            "arguments": '{"cmd":"ls"}',
        },
        {"type": "function_call_output", "call_id": "c1", "output": "a.txt"},
    ],
    "tools": [
        {"type": "function", "name": "exec_command", "parameters": SCHEMA},
        {
            "type": "namespace",
            "name": "agents",
            "description": "Agents",
            "tools": [
                {
                    "type": "function",
                    "name": "spawn_agent",
                    "description": "Spawn",
                    "parameters": EMPTY,
                }
            ],
        },
        {"type": "web_search", "external_web_access": False},
    ],
    "tool_choice": "auto",
    "parallel_tool_calls": False,
    "max_output_tokens": 4000,
    "temperature": 0.5,
    "reasoning": {"effort": "low", "summary": "auto"},
    "text": {"format": {"type": "json_schema", "name": "answer", "schema": EMPTY}},
    "store": False,
    "include": ["reasoning.encrypted_content"],
    "prompt_cache_key": "cache-key",
}
CHAT_TOOLS = [
    {"type": "function", "function": {"name": "exec_command", "parameters": SCHEMA}},
    {
        "type": "function",
        "function": {"name": "spawn_agent", "description": "Spawn", "parameters": EMPTY},
    },
]
CHAT_MESSAGES = [
    {"role": "system", "content": "Be careful."},
    {"role": "system", "content": [{"type": "text", "text": "Rules"}]},
    {
        "role": "user",
        "content": [
            {"type": "text", "text": "Look"},
            {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
        ],
    },
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "c1",
                "type": "function",
                "function": {"name": "exec_command", "arguments": '{"cmd":"ls"}'},
            }
        ],
    },
    {"role": "tool", "tool_call_id": "c1", "content": "a.txt"},
]


def chat_request(model: str, stream: bool) -> dict[str, Any]:
    # gpt-5 reasons, so it gets max_completion_tokens and reasoning_effort.
    body: dict[str, Any] = {
        "model": model,
        "messages": CHAT_MESSAGES,
        "max_completion_tokens": 4000,
        "temperature": 0.5,
        "tools": CHAT_TOOLS,
        "tool_choice": "auto",
        "parallel_tool_calls": False,
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "answer", "schema": EMPTY},
        },
        "reasoning_effort": "low",
    }
    if stream:
        body.update(stream=True, stream_options={"include_usage": True})
    return body


def anthropic_request(model: str, stream: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": model,
        "max_tokens": 4000,
        "output_config": {"format": {"type": "json_schema", "schema": EMPTY}},
        "system": [{"type": "text", "text": "Be careful."}, {"type": "text", "text": "Rules"}],
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Look"},
                    {
                        "type": "image",
                        "source": {"type": "url", "url": "https://example.com/a.png"},
                    },
                ],
            },
            {
                "role": "assistant",
                "content": [
                    {"type": "tool_use", "id": "c1", "name": "exec_command", "input": {"cmd": "ls"}}
                ],
            },
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": "c1", "content": "a.txt"}],
            },
        ],
        "thinking": {"type": "enabled", "budget_tokens": 3999},
        "temperature": 0.5,
        "tools": [
            {"name": "exec_command", "input_schema": SCHEMA},
            {"name": "spawn_agent", "description": "Spawn", "input_schema": EMPTY},
        ],
        "tool_choice": {"type": "auto", "disable_parallel_tool_use": True},
    }
    if stream:
        body["stream"] = True
    return body


@pytest.fixture(scope="module")
def upstream() -> Iterator[RecordingUpstream]:
    with running_recording_upstream() as fake:
        yield fake


@pytest.fixture(scope="module")
def gateway(
    upstream: RecordingUpstream, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    config = tmp_path_factory.mktemp("responses-fidelity") / "gateway.toml"
    config.write_text(
        f"""
api_keys = ["{API_KEY}"]

[[models]]
name = "gpt-*"
provider = "openai"
base_url = "{upstream.base_url}/v1"

[[models]]
name = "claude-*"
provider = "anthropic"
base_url = "{upstream.base_url}"

[[models]]
name = "pt-*"
provider = "openai"
base_url = "{upstream.base_url}/v1"
responses = "pass-through"
"""
    )
    with running(["serve", "--config", str(config), "--port", "0"]) as server:
        yield server


@pytest.fixture
def client(gateway: RunningServer, upstream: RecordingUpstream) -> Iterator[openai.OpenAI]:
    upstream.reset()
    with openai.OpenAI(base_url=gateway.base_url + "/v1", api_key=API_KEY, max_retries=0) as sdk:
        yield sdk


def send(client: openai.OpenAI, model: str, stream: bool) -> tuple[str, int, int]:
    """The answer's text and usage, as the SDK saw it."""
    if stream:
        with client.responses.stream(model=model, **REQUEST) as events:
            response = events.get_final_response()
    else:
        response = client.responses.create(model=model, **REQUEST)
    assert response.status == "completed"
    assert response.usage is not None
    return response.output_text, response.usage.input_tokens, response.usage.output_tokens


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
def test_an_openai_route_gets_chat_completions(
    client: openai.OpenAI, upstream: RecordingUpstream, stream: bool
) -> None:
    assert send(client, "gpt-5-mini", stream) == ("Hello there", USAGE_IN, USAGE_OUT)
    (received,) = upstream.received
    assert received.path == OPENAI_PATH
    assert received.body == chat_request("gpt-5-mini", stream)


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
def test_an_anthropic_route_gets_messages(
    client: openai.OpenAI, upstream: RecordingUpstream, stream: bool
) -> None:
    assert send(client, "claude-sonnet-4-5", stream) == ("Hello there", USAGE_IN, USAGE_OUT)
    (received,) = upstream.received
    assert received.path == ANTHROPIC_PATH
    assert received.body == anthropic_request("claude-sonnet-4-5", stream)


def test_a_model_that_does_not_reason_gets_max_tokens_and_no_effort(
    client: openai.OpenAI, upstream: RecordingUpstream
) -> None:
    client.responses.create(
        model="gpt-4o", input="Hi", max_output_tokens=9, reasoning={"effort": "low"}
    )
    assert upstream.last.body == {
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": "Hi"}],
        "max_tokens": 9,
    }


def test_a_pass_through_route_gets_the_request_untouched(
    client: openai.OpenAI, upstream: RecordingUpstream
) -> None:
    events = [
        sse(
            {"type": "response.created", "sequence_number": 0, "response": {"id": "resp_up"}},
            "response.created",
        ),
        sse(
            {
                "type": "response.completed",
                "sequence_number": 1,
                "response": {"id": "resp_up", "usage": {"input_tokens": 5, "output_tokens": 2}},
                "upstream_extra": True,
            },
            "response.completed",
        ),
    ]
    upstream.queue(Reply(events=events))
    with client.responses.with_streaming_response.create(
        model="pt-m", stream=True, **REQUEST
    ) as reply:
        got = b"".join(reply.iter_bytes())
    assert got == b"".join(events)
    (received,) = upstream.received
    assert received.path == RESPONSES_PATH
    assert received.body == {"model": "pt-m", "stream": True, **orjson.loads(orjson.dumps(REQUEST))}
    # The client's key is the gateway's, never the upstream's.
    assert received.headers.get("authorization") != f"Bearer {API_KEY}"


def thinking_tool_events() -> list[bytes]:
    """Anthropic streaming signed thinking, then a call of ``exec_command``."""
    message: dict[str, Any] = {
        "id": "msg_up",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5",
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": USAGE_IN, "output_tokens": 1},
    }

    def block(index: int, kind: str, **fields: Any) -> dict[str, Any]:
        return {"type": kind, "index": index, **fields}

    return [
        anthropic_sse({"type": "message_start", "message": message}),
        anthropic_sse(
            block(0, "content_block_start", content_block={"type": "thinking", "thinking": ""})
        ),
        anthropic_sse(
            block(0, "content_block_delta", delta={"type": "thinking_delta", "thinking": "Hm, ls."})
        ),
        anthropic_sse(
            block(0, "content_block_delta", delta={"type": "signature_delta", "signature": "sig-1"})
        ),
        anthropic_sse(block(0, "content_block_stop")),
        anthropic_sse(
            block(
                1,
                "content_block_start",
                content_block={
                    "type": "tool_use",
                    "id": "toolu_1",
                    "name": "exec_command",
                    "input": {},
                },
            )
        ),
        anthropic_sse(
            block(
                1,
                "content_block_delta",
                delta={"type": "input_json_delta", "partial_json": '{"cmd":"ls"}'},
            )
        ),
        anthropic_sse(block(1, "content_block_stop")),
        anthropic_sse(
            {
                "type": "message_delta",
                "delta": {"stop_reason": "tool_use", "stop_sequence": None},
                "usage": {"output_tokens": USAGE_OUT},
            }
        ),
        anthropic_sse({"type": "message_stop"}),
    ]


def test_signed_thinking_survives_a_tool_loop_on_an_anthropic_route(
    client: openai.OpenAI, upstream: RecordingUpstream
) -> None:
    upstream.queue(Reply(events=thinking_tool_events()))
    request: Any = {
        "model": "claude-sonnet-4-5",
        "tools": [{"type": "function", "name": "exec_command", "parameters": SCHEMA}],
        "reasoning": {"effort": "low"},
        "max_output_tokens": 8000,
        "include": ["reasoning.encrypted_content"],
    }
    question: Any = {"role": "user", "content": "List files"}
    with client.responses.stream(input=[question], **request) as events:
        first = events.get_final_response()
    reasoning, call = first.output
    assert reasoning.type == "reasoning" and reasoning.encrypted_content
    assert reasoning.content is not None and reasoning.content[0].text == "Hm, ls."
    assert call.type == "function_call" and call.call_id == "toolu_1"

    history: Any = [
        question,
        *(item.model_dump(exclude_none=True) for item in first.output),
        {"type": "function_call_output", "call_id": "toolu_1", "output": "a.txt"},
    ]
    client.responses.create(input=history, **request)
    turn = upstream.last.body["messages"][1]
    assert turn == {
        "role": "assistant",
        "content": [
            {"type": "thinking", "thinking": "Hm, ls.", "signature": "sig-1"},
            {"type": "tool_use", "id": "toolu_1", "name": "exec_command", "input": {"cmd": "ls"}},
        ],
    }


def test_a_pass_through_failure_event_arrives_as_sent_and_counts_as_an_error(
    client: openai.OpenAI, upstream: RecordingUpstream, gateway: RunningServer
) -> None:
    failed = {
        "type": "response.failed",
        "sequence_number": 1,
        "response": {
            "id": "resp_up",
            "status": "failed",
            "error": {"code": "server_error", "message": "The model crashed"},
        },
    }
    events = [
        sse(
            {"type": "response.created", "sequence_number": 0, "response": {"id": "resp_up"}},
            "response.created",
        ),
        sse(failed, "response.failed"),
    ]
    upstream.queue(Reply(events=events))
    with client.responses.with_streaming_response.create(
        model="pt-failing", stream=True, input="Hi"
    ) as reply:
        assert b"".join(reply.iter_bytes()) == b"".join(events)
    line = gateway.wait_for_output("model=pt-failing status=200")
    assert "error=upstream" in line
