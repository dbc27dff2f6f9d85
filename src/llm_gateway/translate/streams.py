"""Streams: Anthropic Messages events <-> OpenAI ``chat.completion.chunk``s, as they arrive.

A translator is fed the upstream's SSE events in order and answers each with the SSE
bytes (zero or more events) to send the client now; :meth:`finish` is called once the
upstream stream has ended and returns the closing events. Work per event does not grow
with the length of the reply: the translators keep counters and block numbers, never
the text.

The two streams are built differently. Anthropic opens and closes numbered content
blocks (text, or a tool call whose JSON input arrives in fragments) and reports the
stop reason and output usage in ``message_delta`` before ``message_stop``. OpenAI sends
flat deltas: text, or tool-call fragments keyed by a tool-call index, then a chunk with
``finish_reason`` and, when asked for, a last chunk with only ``usage``, then
``[DONE]``. Both translators count tokens as they go (``input_tokens``,
``output_tokens``) so the gateway's metrics can read them at any time.

An upstream that reports an error mid-stream, or sends data that is not JSON, raises
an ``upstream`` :class:`~llm_gateway.errors.GatewayError` (502) from :meth:`feed`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import orjson

from llm_gateway.errors import GatewayError
from llm_gateway.sse import SSEEvent, encode_event
from llm_gateway.translate.errors import stream_error
from llm_gateway.translate.fields import (
    anthropic_id,
    anthropic_input_tokens,
    anthropic_message_head,
    anthropic_stop,
    anthropic_usage,
    openai_finish_reason,
    openai_id,
    openai_usage,
)
from llm_gateway.translate.malformed import blames, interleaved_tool_calls, upstream_error
from llm_gateway.translate.reasoning import anthropic_thinking_block, reasoning_text

_DONE = b"data: [DONE]\n\n"
_THINKING_START = anthropic_thinking_block("")


class AnthropicToOpenAIStream:
    """Anthropic Messages SSE events in, OpenAI ``chat.completion.chunk`` SSE bytes out.

    ``include_usage`` mirrors the client's ``stream_options.include_usage``: when set,
    every chunk carries ``"usage": null`` and a last chunk with empty ``choices`` carries
    the totals, as OpenAI does. ``prefill`` goes in front of the first text (see
    :func:`~llm_gateway.translate.requests.json_prefill`). ``clock`` gives the ``created``
    timestamp. Thinking streams as ``delta.reasoning_content``, its signature (and any
    redacted thinking) as ``delta.thinking_blocks`` (see :mod:`.reasoning`).
    """

    def __init__(
        self,
        *,
        include_usage: bool,
        prefill: str = "",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.input_tokens = 0
        self.output_tokens = 0
        self._include_usage = include_usage
        self._prefill = prefill
        self._reasoning_chars = 0
        self._created = int(clock())
        self._id = ""
        self._model: str | None = None
        # Anthropic numbers all content blocks; OpenAI numbers tool calls and thinking
        # blocks apart.
        self._tool_indexes: dict[int, int] = {}
        self._thinking_indexes: dict[int, int] = {}
        self._usage: dict[str, Any] = {}

    @blames(upstream_error)
    def feed(self, event: SSEEvent) -> list[bytes]:
        data = _event_json(event)
        match data.get("type"):
            case "message_start":
                message = data["message"]
                self._id = openai_id(message["id"])
                self._model = message.get("model")
                self._count(message.get("usage"))
                return [self._chunk({"role": "assistant", "content": ""})]
            case "content_block_start":
                return self._block_start(data["index"], data["content_block"])
            case "content_block_delta":
                return self._block_delta(data["index"], data["delta"])
            case "message_delta":
                self._count(data.get("usage"))
                finish_reason = openai_finish_reason(data["delta"].get("stop_reason"))
                return [self._chunk({}, finish_reason)]
            case "error":
                raise stream_error(event, "anthropic", data.get("error"))
        # content_block_stop, message_stop and ping need no chunk; event types Anthropic
        # adds later are ignored, as its versioning policy asks of clients.
        return []

    def finish(self) -> list[bytes]:
        """The usage chunk (only with ``include_usage``) and ``[DONE]``."""
        if not self._id:
            raise _ended_empty()
        if not self._include_usage:
            return [_DONE]
        chunk = self._envelope([])
        chunk["usage"] = openai_usage(self._usage, self._reasoning_chars)
        return [encode_event(orjson.dumps(chunk)), _DONE]

    def _block_start(self, index: int, block: dict[str, Any]) -> list[bytes]:
        if block["type"] == "text" and block.get("text"):
            return [self._text(block["text"])]
        if block["type"] in ("thinking", "redacted_thinking"):
            self._thinking_indexes[index] = len(self._thinking_indexes)
        if block["type"] == "thinking" and block.get("thinking"):
            return [self._reasoning(index, block["thinking"])]
        if block["type"] == "redacted_thinking":
            redacted = {"type": "redacted_thinking", "data": block.get("data") or ""}
            return [self._thinking_block(index, redacted)]
        if block["type"] != "tool_use":
            return []
        tool_index = self._tool_indexes[index] = len(self._tool_indexes)
        call = {
            "index": tool_index,
            "id": block["id"],
            "type": "function",
            "function": {"name": block["name"], "arguments": ""},
        }
        return [self._chunk({"tool_calls": [call]})]

    def _block_delta(self, index: int, delta: dict[str, Any]) -> list[bytes]:
        if delta["type"] == "text_delta":
            return [self._text(delta["text"])]
        if delta["type"] == "thinking_delta":
            return [self._reasoning(index, delta["thinking"])]
        if delta["type"] == "signature_delta":
            signed = {"type": "thinking", "signature": delta["signature"]}
            return [self._thinking_block(index, signed)]
        if delta["type"] == "input_json_delta":
            call = {
                "index": self._tool_indexes[index],
                "function": {"arguments": delta["partial_json"]},
            }
            return [self._chunk({"tool_calls": [call]})]
        return []

    def _text(self, text: str) -> bytes:
        prefill, self._prefill = self._prefill, ""
        return self._chunk({"content": prefill + text})

    def _reasoning(self, index: int, text: str) -> bytes:
        self._reasoning_chars += len(text)
        block = {"index": self._thinking_indexes[index], "type": "thinking", "thinking": text}
        return self._chunk({"reasoning_content": text, "thinking_blocks": [block]})

    def _thinking_block(self, index: int, fields: dict[str, Any]) -> bytes:
        block = {"index": self._thinking_indexes[index], **fields}
        return self._chunk({"thinking_blocks": [block]})

    def _count(self, usage: dict[str, Any] | None) -> None:
        """Take in an Anthropic usage object: its counts are running totals, not increments."""
        self._usage.update(
            (key, value) for key, value in (usage or {}).items() if value is not None
        )
        self.input_tokens = anthropic_input_tokens(self._usage)
        self.output_tokens = self._usage.get("output_tokens") or 0

    def _chunk(self, delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        chunk = self._envelope([choice])
        if self._include_usage:
            chunk["usage"] = None
        return encode_event(orjson.dumps(chunk))

    def _envelope(self, choices: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "id": self._id,
            "object": "chat.completion.chunk",
            "created": self._created,
            "model": self._model,
            "choices": choices,
        }


class OpenAIToAnthropicStream:
    """OpenAI ``chat.completion.chunk`` SSE events in, Anthropic Messages SSE bytes out.

    ``message_start`` goes out with the first chunk. Anthropic content blocks are strictly
    sequential, so a change from reasoning to text to a tool call (or from one tool call
    to the next) closes the open block and starts a new one; :meth:`finish` closes the
    last one and sends the stop reason with the usage the upstream reported (zero if it
    sent none). Reasoning text becomes a thinking block, a refusal text with
    ``stop_reason: "refusal"``.
    """

    def __init__(self) -> None:
        self.input_tokens = 0
        self.output_tokens = 0
        self._usage: dict[str, Any] = {}
        self._refused = False
        self._started = False
        self._id = ""
        self._model = ""
        self._blocks = 0
        # What the open block holds: "text", "thinking", or the OpenAI index of a tool call.
        self._open: str | int | None = None
        self._tool_calls: set[int] = set()
        self._finish_choice: dict[str, Any] = {}

    @blames(upstream_error)
    def feed(self, event: SSEEvent) -> list[bytes]:
        if event.data.strip() == b"[DONE]":
            return []
        chunk = _event_json(event)
        if chunk.get("error"):
            raise stream_error(event, "openai", chunk["error"])
        usage = chunk.get("usage")
        if usage:
            self._usage = usage
            self.input_tokens = usage.get("prompt_tokens") or 0
            self.output_tokens = usage.get("completion_tokens") or 0
        out = self._start(chunk)
        for choice in chunk.get("choices") or ():
            if choice.get("index", 0) == 0:
                out.extend(self._choice(choice))
        return out

    def finish(self) -> list[bytes]:
        """Close the open block, then ``message_delta`` and ``message_stop``."""
        if not self._started:
            raise _ended_empty()
        out = self._close_block()
        if self._refused:
            stop_reason, stop_sequence = "refusal", None
        else:
            stop_reason, stop_sequence = anthropic_stop(
                self._finish_choice, called_tools=bool(self._tool_calls)
            )
        delta = {"stop_reason": stop_reason, "stop_sequence": stop_sequence}
        usage = anthropic_usage(self._usage)
        out.append(_event({"type": "message_delta", "delta": delta, "usage": usage}))
        out.append(_event({"type": "message_stop"}))
        return out

    def _start(self, chunk: dict[str, Any]) -> list[bytes]:
        if self._started:
            return []
        self._started = True
        self._id = anthropic_id(chunk.get("id") or "")
        self._model = chunk.get("model") or ""
        message = anthropic_message_head(self._id, self._model, self.input_tokens)
        return [_event({"type": "message_start", "message": message})]

    def _choice(self, choice: dict[str, Any]) -> list[bytes]:
        out: list[bytes] = []
        delta = choice.get("delta") or {}
        reasoning = reasoning_text(delta)
        if reasoning:
            out.extend(self._thinking(reasoning))
        if delta.get("content"):
            out.extend(self._text(delta["content"]))
        if delta.get("refusal"):
            self._refused = True
            out.extend(self._text(delta["refusal"]))
        for position, call in enumerate(delta.get("tool_calls") or ()):
            out.extend(self._tool_call(call.get("index", position), call))
        if choice.get("finish_reason"):
            self._finish_choice = choice
        return out

    def _text(self, text: str) -> list[bytes]:
        out = [] if self._open == "text" else self._open_block("text", {"type": "text", "text": ""})
        out.append(self._block_delta({"type": "text_delta", "text": text}))
        return out

    def _thinking(self, text: str) -> list[bytes]:
        out = [] if self._open == "thinking" else self._open_block("thinking", _THINKING_START)
        out.append(self._block_delta({"type": "thinking_delta", "thinking": text}))
        return out

    def _tool_call(self, index: int, call: dict[str, Any]) -> list[bytes]:
        function = call.get("function") or {}
        out: list[bytes] = []
        if self._open != index:
            if index in self._tool_calls:
                raise interleaved_tool_calls()
            self._tool_calls.add(index)
            tool_use: dict[str, Any] = {
                "type": "tool_use",
                "id": call.get("id") or f"toolu_{self._id.removeprefix('msg_')}_{index}",
                "name": function.get("name") or "",
                "input": {},
            }
            out = self._open_block(index, tool_use)
        if function.get("arguments"):
            delta = {"type": "input_json_delta", "partial_json": function["arguments"]}
            out.append(self._block_delta(delta))
        return out

    def _open_block(self, holds: str | int, content_block: dict[str, Any]) -> list[bytes]:
        out = self._close_block()
        self._open = holds
        self._blocks += 1
        start = {"type": "content_block_start", "index": self._blocks - 1}
        out.append(_event({**start, "content_block": content_block}))
        return out

    def _block_delta(self, delta: dict[str, Any]) -> bytes:
        return _event({"type": "content_block_delta", "index": self._blocks - 1, "delta": delta})

    def _close_block(self) -> list[bytes]:
        if self._open is None:
            return []
        self._open = None
        return [_event({"type": "content_block_stop", "index": self._blocks - 1})]


def _ended_empty() -> GatewayError:
    return GatewayError("upstream", 502, "upstream stream ended before any data")


def _event_json(event: SSEEvent) -> dict[str, Any]:
    try:
        data = orjson.loads(event.data)
    except orjson.JSONDecodeError:
        data = None
    if not isinstance(data, dict):
        raise GatewayError(
            "upstream", 502, "upstream sent a stream event that is not a JSON object"
        )
    return data


def _event(payload: dict[str, Any]) -> bytes:
    """An Anthropic SSE event; its ``event:`` name is always the payload's ``type``."""
    return encode_event(orjson.dumps(payload), payload["type"])
