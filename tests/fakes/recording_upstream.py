"""A fake LLM upstream on 127.0.0.1 that answers what a test scripts and records what it gets.

It speaks the exact wire formats of OpenAI Chat Completions (``POST /v1/chat/completions``),
Anthropic Messages (``POST /v1/messages``, ``POST /v1/messages/count_tokens``) and the OpenAI
Responses API (``POST /v1/responses``), JSON and server-sent events, from an aiohttp server on its own thread and event loop, so tests that
drive a gateway subprocess with the synchronous SDKs can use it.

Each request takes the next :class:`Reply` from :attr:`RecordingUpstream.script`; with the
script empty it answers a short text reply in the path's own shape (streamed when the
request asked for it). A reply is exactly what goes on the wire: a status, headers, and a
JSON body or a list of SSE events, each event's bytes as given, so a test can send a
malformed event or an error event mid-stream. Every request is recorded in
:attr:`RecordingUpstream.received` (path, headers with lower-case names, parsed body).

The builders below (:func:`text_reply`, :func:`openai_error`, ...) write the formats as the
API references describe them, so scripted replies read like the real thing.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson
from aiohttp import web

from tests.fakes.serving import Received, serving

Api = Literal["openai", "anthropic", "responses"]

OPENAI_PATH = "/v1/chat/completions"
ANTHROPIC_PATH = "/v1/messages"
COUNT_TOKENS_PATH = "/v1/messages/count_tokens"
RESPONSES_PATH = "/v1/responses"

USAGE_IN, USAGE_OUT = 11, 3
"""The token counts every default reply reports."""


@dataclass
class Reply:
    """What the fake sends: ``body`` (JSON) or ``events`` (SSE, each event's exact bytes)."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    events: list[bytes] | None = None

    @property
    def streams(self) -> bool:
        return self.events is not None


@dataclass
class RecordingUpstream:
    base_url: str = ""
    script: deque[Reply] = field(default_factory=deque)
    received: list[Received] = field(default_factory=list)

    def queue(self, *replies: Reply) -> None:
        self.script.extend(replies)

    def reset(self) -> None:
        """Forget what was received and what was scripted (between test cases)."""
        self.script.clear()
        self.received.clear()

    @property
    def last(self) -> Received:
        assert self.received, "the upstream received nothing"
        return self.received[-1]

    def app(self) -> web.Application:
        app = web.Application(client_max_size=16 * 1024 * 1024)
        for path in (OPENAI_PATH, ANTHROPIC_PATH, COUNT_TOKENS_PATH, RESPONSES_PATH):
            app.router.add_post(path, self._answer)
        return app

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        body = orjson.loads(await request.read())
        headers = {name.lower(): value for name, value in request.headers.items()}
        self.received.append(Received(request.path, headers, body))
        reply = self.script.popleft() if self.script else default_reply(request.path, body)
        if reply.events is None:
            return web.Response(status=reply.status, body=reply.body, headers=_json(reply))
        response = web.StreamResponse(status=reply.status, headers=_sse(reply))
        await response.prepare(request)
        for event in reply.events:
            await response.write(event)
        await response.write_eof()
        return response


def _json(reply: Reply) -> dict[str, str]:
    return {"content-type": "application/json", **reply.headers}


def _sse(reply: Reply) -> dict[str, str]:
    return {"content-type": "text/event-stream", "cache-control": "no-cache", **reply.headers}


def default_reply(path: str, body: dict[str, Any]) -> Reply:
    """A short text answer in the shape of ``path``, streamed when ``body`` asks for it."""
    if path == COUNT_TOKENS_PATH:
        return json_reply({"input_tokens": USAGE_IN})
    apis: dict[str, Api] = {OPENAI_PATH: "openai", RESPONSES_PATH: "responses"}
    api = apis.get(path, "anthropic")
    stream = body.get("stream") is True
    options = body.get("stream_options")
    usage = isinstance(options, dict) and options.get("include_usage") is True
    return text_reply(api, stream, "Hello there", model=str(body.get("model")), usage=usage)


# --- builders: replies in each API's wire format -----------------------------------------


def json_reply(payload: object, status: int = 200, headers: Mapping[str, str] = {}) -> Reply:
    return Reply(status=status, headers=dict(headers), body=orjson.dumps(payload))


def sse(data: object, event: str | None = None) -> bytes:
    """One SSE event; ``data`` is JSON-encoded unless it is already bytes."""
    encoded = data if isinstance(data, bytes) else orjson.dumps(data)
    head = b"" if event is None else b"event: " + event.encode() + b"\n"
    return head + b"data: " + encoded + b"\n\n"


def anthropic_sse(payload: dict[str, Any]) -> bytes:
    """An Anthropic event: its ``event:`` name is its payload's ``type``."""
    return sse(payload, str(payload["type"]))


def text_reply(
    api: Api,
    stream: bool,
    text: str,
    *,
    model: str = "upstream-model",
    usage: bool = True,
    headers: Mapping[str, str] = {},
) -> Reply:
    """A plain text answer; ``usage`` says whether an OpenAI stream ends with a usage chunk."""
    if api == "responses":
        response = responses_object(text, model)
        if stream:
            return Reply(headers=dict(headers), events=responses_events(response))
        return json_reply(response, headers=headers)
    if api == "openai":
        if stream:
            return Reply(headers=dict(headers), events=openai_text_events(text, model, usage))
        return json_reply(openai_completion(text, model), headers=headers)
    if stream:
        return Reply(headers=dict(headers), events=anthropic_text_events(text, model))
    return json_reply(anthropic_message(text, model), headers=headers)


def openai_completion(text: str, model: str = "upstream-model") -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake1",
        "object": "chat.completion",
        "created": 1700000000,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text, "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": USAGE_IN,
            "completion_tokens": USAGE_OUT,
            "total_tokens": USAGE_IN + USAGE_OUT,
        },
    }


def responses_object(text: str, model: str = "upstream-model") -> dict[str, Any]:
    """A whole Responses API answer: one message with ``text``."""
    part = {"type": "output_text", "text": text, "annotations": []}
    message = {"id": "msg_fake1", "type": "message", "status": "completed", "role": "assistant"}
    return {
        "id": "resp_fake1",
        "object": "response",
        "created_at": 1700000000,
        "status": "completed",
        "model": model,
        "output": [{**message, "content": [part]}],
        "usage": {
            "input_tokens": USAGE_IN,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": USAGE_OUT,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": USAGE_IN + USAGE_OUT,
        },
    }


def responses_events(response: dict[str, Any]) -> list[bytes]:
    """``response`` (a whole Responses API answer) as its stream: created, each output item
    added and done (a message's text as one ``output_text.delta`` between them), then
    ``response.completed`` (or ``response.incomplete``) with the whole response."""
    head = {**response, "status": "in_progress", "output": [], "usage": None}
    events: list[dict[str, Any]] = [{"type": "response.created", "response": head}]
    for index, item in enumerate(response["output"]):
        events.append({"type": "response.output_item.added", "output_index": index, "item": item})
        for part_index, part in enumerate(item.get("content") or ()):
            if part.get("type") == "output_text":
                where = {"item_id": item["id"], "output_index": index, "content_index": part_index}
                delta = {"delta": part["text"], "logprobs": []}
                events.append({"type": "response.output_text.delta", **where, **delta})
        events.append({"type": "response.output_item.done", "output_index": index, "item": item})
    end = "response.completed" if response["status"] == "completed" else "response.incomplete"
    events.append({"type": end, "response": response})
    return [
        sse({**event, "sequence_number": number}, str(event["type"]))
        for number, event in enumerate(events)
    ]


def openai_chunk(
    delta: dict[str, Any], finish_reason: str | None = None, model: str = "upstream-model"
) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake1",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
    }


def openai_text_events(text: str, model: str = "upstream-model", usage: bool = True) -> list[bytes]:
    """Role, the text in two pieces, the finish, usage when asked for, then ``[DONE]``."""
    half = len(text) // 2
    events = [
        sse(openai_chunk({"role": "assistant", "content": ""}, model=model)),
        sse(openai_chunk({"content": text[:half]}, model=model)),
        sse(openai_chunk({"content": text[half:]}, model=model)),
        sse(openai_chunk({}, "stop", model=model)),
    ]
    if usage:
        chunk = openai_chunk({}, model=model)
        chunk["choices"] = []
        chunk["usage"] = openai_completion("")["usage"]
        events.append(sse(chunk))
    return [*events, b"data: [DONE]\n\n"]


def anthropic_message(text: str, model: str = "upstream-model") -> dict[str, Any]:
    return {
        "id": "msg_fake1",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": USAGE_IN, "output_tokens": USAGE_OUT},
    }


def anthropic_head_events(model: str = "upstream-model") -> list[bytes]:
    """``message_start``, an open text block and a ping: a stream up to its first text."""
    message = anthropic_message("", model)
    message.update(content=[], stop_reason=None)
    message["usage"] = {"input_tokens": USAGE_IN, "output_tokens": 1}
    return [
        anthropic_sse({"type": "message_start", "message": message}),
        anthropic_sse(
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            }
        ),
        anthropic_sse({"type": "ping"}),
    ]


def anthropic_text_delta(text: str) -> bytes:
    delta = {"type": "text_delta", "text": text}
    return anthropic_sse({"type": "content_block_delta", "index": 0, "delta": delta})


def anthropic_text_events(text: str, model: str = "upstream-model") -> list[bytes]:
    half = len(text) // 2
    return [
        *anthropic_head_events(model),
        anthropic_text_delta(text[:half]),
        anthropic_text_delta(text[half:]),
        anthropic_sse({"type": "content_block_stop", "index": 0}),
        anthropic_sse(
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": USAGE_OUT},
            }
        ),
        anthropic_sse({"type": "message_stop"}),
    ]


def openai_error_payload(
    message: str, error_type: str, param: str | None = None, code: str | None = None
) -> dict[str, Any]:
    return {"error": {"message": message, "type": error_type, "param": param, "code": code}}


def anthropic_error_payload(
    error_type: str, message: str, request_id: str | None = "req_fake1"
) -> dict[str, Any]:
    payload: dict[str, Any] = {"type": "error", "error": {"type": error_type, "message": message}}
    if request_id is not None:
        payload["request_id"] = request_id
    return payload


# --- serving -------------------------------------------------------------------------------


@contextmanager
def running_recording_upstream() -> Iterator[RecordingUpstream]:
    """Serve a :class:`RecordingUpstream` on 127.0.0.1 (OS-chosen port) for the ``with`` block."""
    fake = RecordingUpstream()
    with serving(fake.app(), "recording-upstream") as served:
        fake.base_url = served.base_url
        yield fake
