"""Streams: Chat Completions chunks -> Responses API events, as they arrive.

Each chat delta continues the open output item or opens the next one: reasoning text
(``reasoning_content``), message text, or a tool call (one per tool-call index). Opening
an item closes the one before with all its ``.done`` events, so items are whole and in
order; :meth:`ChatToResponsesStream.finish` closes the last one and sends
``response.completed`` (``response.incomplete`` after ``finish_reason: length``) with the
whole response and its usage. A custom tool's input is the ``input`` string inside the
JSON arguments, so it is sent as one delta once the call is complete. Signed thinking
(``delta.thinking_blocks``) is gathered while its reasoning item is open and sealed into
the item's ``encrypted_content`` when it closes.

Work per chunk does not grow with the reply, but the text is kept: the API repeats it in
the ``.done`` events and in the final response.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import orjson

from llm_gateway.errors import GatewayError
from llm_gateway.sse import SSEEvent
from llm_gateway.translate.errors import stream_error
from llm_gateway.translate.malformed import blames, interleaved_tool_calls, upstream_error
from llm_gateway.translate.responses_api.events import OutputStream
from llm_gateway.translate.responses_api.objects import (
    INCOMPLETE_REASONS,
    failure_object,
    response_object,
)
from llm_gateway.translate.responses_api.replies import base_id, custom_input, responses_usage
from llm_gateway.translate.responses_api.requests import ResponsesTemplate
from llm_gateway.translate.responses_api.thinking import seal


class ChatToResponsesStream:
    """``chat.completion.chunk`` SSE events in, Responses API SSE events out."""

    def __init__(
        self, template: ResponsesTemplate, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.input_tokens = 0
        self.output_tokens = 0
        self._template = template
        self._clock = clock
        self._events = OutputStream()
        self._started = False
        self._base = ""
        self._model = ""
        self._created = 0
        self._usage: dict[str, Any] = {}
        self._finish_reason: str | None = None
        # The chat tool-call index of the open call, every index seen, and a custom
        # tool's arguments, held until the call is complete.
        self._call: int | None = None
        self._calls_seen: set[int] = set()
        self._custom_arguments: list[str] | None = None
        # The signed thinking blocks of the open reasoning item, by their stream index.
        self._thinking: dict[int, dict[str, Any]] = {}

    @blames(upstream_error)
    def feed(self, event: SSEEvent) -> list[bytes]:
        if event.data.strip() == b"[DONE]":
            return []
        chunk = orjson.loads(event.data)
        if not isinstance(chunk, dict):
            raise upstream_error("a stream event that is not a JSON object")
        if chunk.get("error"):
            raise stream_error(event, "openai", chunk["error"])
        out = self._start(chunk)
        if chunk.get("usage"):
            self._usage = chunk["usage"]
            self.input_tokens = self._usage.get("prompt_tokens") or 0
            self.output_tokens = self._usage.get("completion_tokens") or 0
        for choice in chunk.get("choices") or ():
            if choice.get("index", 0) == 0:
                out.extend(self._choice(choice))
        return out

    def finish(self) -> list[bytes]:
        if not self._started:
            raise GatewayError("upstream", 502, "upstream stream ended before any data")
        out = self._close()
        incomplete = INCOMPLETE_REASONS.get(self._finish_reason or "stop")
        status = "completed" if incomplete is None else "incomplete"
        response = self._response(status, incomplete_reason=incomplete)
        out.append(self._events.finished(response))
        return out

    def fail(self, error: GatewayError) -> list[bytes]:
        """End the stream with ``response.failed`` carrying ``error``."""
        out = [] if self._started else self._start({})
        response = self._response("failed", error=failure_object(error))
        out.append(self._events.failed(response))
        return out

    def _start(self, chunk: dict[str, Any]) -> list[bytes]:
        if self._started:
            return []
        self._started = True
        self._base = base_id(chunk.get("id") or "")
        self._model = chunk.get("model") or ""
        self._created = chunk.get("created") or int(self._clock())
        return self._events.created(self._response("in_progress", with_usage=False))

    def _choice(self, choice: dict[str, Any]) -> list[bytes]:
        out: list[bytes] = []
        delta = choice.get("delta") or {}
        if delta.get("reasoning_content"):
            out.extend(self._text("reasoning", delta["reasoning_content"]))
        if delta.get("thinking_blocks"):
            if self._events.open_kind != "reasoning":
                out.extend(self._open("reasoning"))
            for block in delta["thinking_blocks"]:
                self._thinking_piece(block)
        if delta.get("content"):
            out.extend(self._text("message", delta["content"]))
        if delta.get("refusal"):
            out.extend(self._text("refusal", delta["refusal"]))
        for position, call in enumerate(delta.get("tool_calls") or ()):
            out.extend(self._tool_call(call.get("index", position), call))
        if choice.get("finish_reason"):
            self._finish_reason = choice["finish_reason"]
        return out

    def _text(self, kind: str, text: str) -> list[bytes]:
        out = self._open(kind) if self._events.open_kind != kind else []
        out.append(self._events.delta(text))
        return out

    def _open(self, kind: str) -> list[bytes]:
        out = self._close()
        if kind in ("message", "refusal"):
            item_id = f"msg_{self._base}_{len(self._events.output)}"
            out += self._events.open_message(item_id, refusal=kind == "refusal")
        else:
            out += self._events.open_reasoning(f"rs_{self._base}_{len(self._events.output)}")
        return out

    def _thinking_piece(self, piece: dict[str, Any]) -> None:
        """Add a streamed piece of a signed thinking block (text, signature or redacted data)."""
        block = self._thinking.setdefault(piece.get("index", 0), {"type": piece["type"]})
        if piece.get("thinking"):
            block["thinking"] = block.get("thinking", "") + piece["thinking"]
        for field in ("signature", "data"):
            if piece.get(field):
                block[field] = piece[field]

    def _tool_call(self, index: int, call: dict[str, Any]) -> list[bytes]:
        function = call.get("function") or {}
        out: list[bytes] = []
        if self._call != index:
            if index in self._calls_seen:
                raise interleaved_tool_calls()
            out = self._close()
            self._calls_seen.add(index)
            self._call = index
            origin = self._template.origin(function.get("name") or "")
            call_id = call.get("id") or f"call_{self._base}_{index}"
            out += self._events.open_call(
                f"fc_{self._base}_{index}",
                call_id,
                origin.name,
                custom=origin.custom,
                namespace=origin.namespace,
            )
            self._custom_arguments = [] if origin.custom else None
        arguments = function.get("arguments")
        if arguments:
            if self._custom_arguments is not None:
                self._custom_arguments.append(arguments)
            else:
                out.append(self._events.delta(arguments))
        return out

    def _close(self) -> list[bytes]:
        out: list[bytes] = []
        if self._custom_arguments is not None:
            out.append(self._events.delta(custom_input("".join(self._custom_arguments))))
            self._custom_arguments = None
        self._call = None
        if self._thinking:
            blocks = [self._thinking[index] for index in sorted(self._thinking)]
            self._thinking = {}
            out += self._events.close(encrypted_content=seal(blocks))
        else:
            out += self._events.close()
        return out

    def _response(
        self,
        status: str,
        *,
        with_usage: bool = True,
        incomplete_reason: str | None = None,
        error: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        return response_object(
            self._template.request,
            response_id="resp_" + self._base,
            model=self._model,
            created_at=self._created,
            status=status,
            output=list(self._events.output),
            usage=responses_usage(self._usage) if with_usage else None,
            incomplete_reason=incomplete_reason,
            error=error,
        )
