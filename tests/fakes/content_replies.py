"""Scripted upstream replies with more than text: thinking, tool calls, refusals, cache usage.

One description of an answer, built into either wire format, whole or streamed, the way
the API references show them, for :class:`~tests.fakes.recording_upstream.RecordingUpstream`
to send:

- :func:`anthropic_reply` takes Anthropic content blocks as a whole message has them. A
  stream opens, fills and closes each block in turn (thinking text then its signature,
  text, a tool's input as one ``input_json_delta``; ``partial_json`` on a ``tool_use``
  block is sent instead of its ``input``, for a stream cut mid-arguments).
- :func:`openai_reply` takes an OpenAI assistant message. A stream sends its
  ``reasoning_content``, ``content``, ``refusal`` and tool calls as deltas, then the
  finish, a usage chunk and ``[DONE]``.
- :func:`responses_reply` takes a Responses API answer's ``output`` items, for a
  ``responses = "pass-through"`` route's upstream.
"""

from __future__ import annotations

from typing import Any

import orjson

from tests.fakes.recording_upstream import (
    Api,
    Reply,
    anthropic_sse,
    json_reply,
    openai_chunk,
    responses_events,
    responses_object,
    sse,
)

MODEL = "upstream-model"


def anthropic_reply(
    stream: bool,
    blocks: list[dict[str, Any]],
    *,
    stop_reason: str = "end_turn",
    usage: dict[str, int] | None = None,
) -> Reply:
    usage = usage or {"input_tokens": 11, "output_tokens": 3}
    message = {
        "id": "msg_fake1",
        "type": "message",
        "role": "assistant",
        "model": MODEL,
        "content": [{k: v for k, v in b.items() if k != "partial_json"} for b in blocks],
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": usage,
    }
    if not stream:
        return json_reply(message)
    head = {**message, "content": [], "stop_reason": None, "usage": {**usage, "output_tokens": 1}}
    events = [anthropic_sse({"type": "message_start", "message": head})]
    for index, block in enumerate(blocks):
        events.extend(_anthropic_block_events(index, block))
    delta = {"stop_reason": stop_reason, "stop_sequence": None}
    end_usage = {"output_tokens": usage["output_tokens"]}
    events.append(anthropic_sse({"type": "message_delta", "delta": delta, "usage": end_usage}))
    events.append(anthropic_sse({"type": "message_stop"}))
    return Reply(events=events)


def _anthropic_block_events(index: int, block: dict[str, Any]) -> list[bytes]:
    kind = block["type"]
    start: dict[str, Any]
    if kind == "thinking":
        start = {"type": "thinking", "thinking": "", "signature": ""}
        deltas = [
            {"type": "thinking_delta", "thinking": block["thinking"]},
            {"type": "signature_delta", "signature": block["signature"]},
        ]
    elif kind == "text":
        start, deltas = (
            {"type": "text", "text": ""},
            [{"type": "text_delta", "text": block["text"]}],
        )
    else:
        start = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
        partial = block.get("partial_json") or orjson.dumps(block["input"]).decode()
        deltas = [{"type": "input_json_delta", "partial_json": partial}]
    return [
        anthropic_sse({"type": "content_block_start", "index": index, "content_block": start}),
        *(
            anthropic_sse({"type": "content_block_delta", "index": index, "delta": delta})
            for delta in deltas
        ),
        anthropic_sse({"type": "content_block_stop", "index": index}),
    ]


def openai_reply(
    stream: bool,
    message: dict[str, Any],
    *,
    finish_reason: str = "stop",
    usage: dict[str, Any] | None = None,
) -> Reply:
    usage = usage or {"prompt_tokens": 11, "completion_tokens": 3, "total_tokens": 14}
    if not stream:
        choice = {
            "index": 0,
            "message": {"role": "assistant", **message},
            "logprobs": None,
            "finish_reason": finish_reason,
        }
        completion = {
            "id": "chatcmpl-fake1",
            "object": "chat.completion",
            "created": 1700000000,
            "model": MODEL,
            "choices": [choice],
            "usage": usage,
        }
        return json_reply(completion)
    deltas: list[dict[str, Any]] = [{"role": "assistant", "content": ""}]
    for name in ("reasoning_content", "content", "refusal"):
        if message.get(name):
            deltas.append({name: message[name]})
    for index, call in enumerate(message.get("tool_calls") or ()):
        deltas.append({"tool_calls": [{"index": index, **call}]})
    events = [sse(openai_chunk(delta)) for delta in deltas]
    events.append(sse(openai_chunk({}, finish_reason)))
    tail = {**openai_chunk({}), "choices": [], "usage": usage}
    events.extend([sse(tail), b"data: [DONE]\n\n"])
    return Reply(events=events)


def responses_reply(stream: bool, output: list[dict[str, Any]], status: str = "completed") -> Reply:
    """A Responses API answer with ``output`` items (each given an ``id`` if it has none)."""
    items = [{"id": f"item_{index}", **item} for index, item in enumerate(output)]
    response = {**responses_object("", MODEL), "output": items, "status": status}
    return Reply(events=responses_events(response)) if stream else json_reply(response)


def reply(
    upstream: Api,
    stream: bool,
    *,
    anthropic: list[dict[str, Any]],
    openai: dict[str, Any],
    responses: list[dict[str, Any]] | None = None,
    stop_reason: str = "end_turn",
    finish_reason: str = "stop",
) -> Reply:
    """The same answer in whichever shape ``upstream`` speaks (a Responses upstream's
    ``output`` items given when a test asks one)."""
    if upstream == "anthropic":
        return anthropic_reply(stream, anthropic, stop_reason=stop_reason)
    if upstream == "responses":
        assert responses is not None, "a Responses upstream needs the answer's output items"
        return responses_reply(stream, responses)
    return openai_reply(stream, openai, finish_reason=finish_reason)
