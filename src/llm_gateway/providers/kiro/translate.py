"""Kiro's event frames -> the Anthropic Messages answer, streamed or whole.

:class:`AnswerBuilder` is fed one decoded frame at a time and returns the Anthropic
stream events it completes, in exactly the order the Anthropic API sends them::

    message_start, ping,
    (content_block_start, content_block_delta*, content_block_stop)*,
    message_delta (stop_reason, usage), message_stop

It also keeps the blocks it built, so :meth:`AnswerBuilder.message` gives the same answer
as one non-streaming Messages response.

Kiro streams a tool call as ``toolUseEvent`` fragments keyed by ``toolUseId``; Anthropic
streams one block at a time. Fragments of a second tool call that arrive while another is
open are held back and emitted as their own block once the open one stops.

Kiro has no ``max_tokens``. We enforce it on the estimated output
(:data:`~.estimate.CHARS_PER_TOKEN` characters per token): text beyond the budget is cut,
the caller stops reading, and the stop reason is ``max_tokens``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from llm_gateway.errors import GatewayError
from llm_gateway.providers.kiro.eventstream import Frame
from llm_gateway.providers.kiro.payload import ToolNames
from llm_gateway.tokens import CHARS_PER_TOKEN, tokens_for_chars
from llm_gateway.translate.fields import anthropic_message_head

AnthropicEvent = tuple[str, dict[str, Any]]


@dataclass
class _ToolCall:
    id: str
    name: str
    input_json: str = ""
    stopped: bool = False


class AnswerBuilder:
    def __init__(
        self,
        *,
        message_id: str,
        model: str,
        input_tokens: int,
        max_tokens: int | None,
        tool_names: ToolNames,
    ) -> None:
        self._message_id = message_id
        self._model = model
        self._input_tokens = input_tokens
        self._budget = max_tokens * CHARS_PER_TOKEN if max_tokens else None
        self._tool_names = tool_names
        self._content: list[dict[str, Any]] = []
        # Each block's text or tool input, as received; joined once, by message().
        self._pieces: dict[int, list[str]] = {}
        self._open_text: int | None = None
        self._open_tool: tuple[int, _ToolCall] | None = None
        self._held: dict[str, _ToolCall] = {}
        self._output_chars = 0
        self.truncated = False
        self.credits: float | None = None

    @property
    def output_tokens(self) -> int:
        return tokens_for_chars(self._output_chars)

    def start(self) -> list[AnthropicEvent]:
        message = anthropic_message_head(self._message_id, self._model, self._input_tokens)
        return [
            ("message_start", {"type": "message_start", "message": message}),
            ("ping", {"type": "ping"}),
        ]

    def feed(self, frame: Frame) -> list[AnthropicEvent]:
        """The events ``frame`` completes; raises ``upstream`` 502 for exception frames."""
        if frame.message_type != "event":
            raise _stream_failure(frame)
        kind = frame.event_type
        if kind not in ("assistantResponseEvent", "toolUseEvent", "meteringEvent"):
            # followupPromptEvent, contextUsageEvent, reasoningContentEvent, metadataEvent
            # and whatever Kiro adds next carry nothing an Anthropic answer has.
            return []
        try:
            data = orjson.loads(frame.payload)
        except orjson.JSONDecodeError:
            raise GatewayError("upstream", 502, f"Kiro sent an unreadable {kind}") from None
        if not isinstance(data, dict):
            raise GatewayError("upstream", 502, f"Kiro sent an unreadable {kind}")
        if kind == "assistantResponseEvent":
            return self._text(str(data.get("content") or ""))
        if kind == "toolUseEvent":
            return self._tool_use(data)
        usage = data.get("usage")
        if isinstance(usage, int | float) and not isinstance(usage, bool):
            self.credits = (self.credits or 0.0) + float(usage)
        return []

    def finish(self) -> list[AnthropicEvent]:
        """Close what is open and end the message."""
        events = self._close_open()
        events += self._release_held(stop_all=True)
        events.append(
            (
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": self.stop_reason, "stop_sequence": None},
                    "usage": {"output_tokens": self.output_tokens},
                },
            )
        )
        events.append(("message_stop", {"type": "message_stop"}))
        return events

    @property
    def stop_reason(self) -> str:
        if self.truncated:
            return "max_tokens"
        if any(block["type"] == "tool_use" for block in self._content):
            return "tool_use"
        return "end_turn"

    def message(self) -> dict[str, Any]:
        """The whole answer as one Messages response; call after :meth:`finish`."""
        content = []
        for index, block in enumerate(self._content):
            joined = "".join(self._pieces[index])
            if block["type"] == "tool_use":
                content.append({**block, "input": _tool_input(joined)})
            else:
                content.append({**block, "text": joined})
        return {
            "id": self._message_id,
            "type": "message",
            "role": "assistant",
            "model": self._model,
            "content": content,
            "stop_reason": self.stop_reason,
            "stop_sequence": None,
            "usage": {"input_tokens": self._input_tokens, "output_tokens": self.output_tokens},
        }

    def _text(self, text: str) -> list[AnthropicEvent]:
        if self._budget is not None and self._output_chars + len(text) > self._budget:
            text = text[: max(0, self._budget - self._output_chars)]
            self.truncated = True
        if not text:
            return []
        events: list[AnthropicEvent] = []
        if self._open_text is None:
            # Text ends any tool call: Anthropic blocks do not interleave.
            events += self._close_open()
            events += self._release_held(stop_all=True)
            self._open_text = len(self._content)
            self._content.append({"type": "text", "text": ""})
            self._pieces[self._open_text] = []
            events.append(_block_start(self._open_text, {"type": "text", "text": ""}))
        self._pieces[self._open_text].append(text)
        self._output_chars += len(text)
        events.append(_delta(self._open_text, {"type": "text_delta", "text": text}))
        return events

    def _tool_use(self, data: dict[str, Any]) -> list[AnthropicEvent]:
        tool_id = str(data.get("toolUseId") or "")
        fragment = data.get("input") or ""
        if not isinstance(fragment, str):
            fragment = orjson.dumps(fragment).decode()
        self._output_chars += len(fragment)
        stop = bool(data.get("stop"))
        open_tool = self._open_tool
        if open_tool is not None and open_tool[1].id == tool_id:
            index = open_tool[0]
            events = self._tool_fragment(index, fragment)
        elif open_tool is not None or tool_id in self._held:
            call = self._held.setdefault(tool_id, _ToolCall(tool_id, self._name(data)))
            call.input_json += fragment
            call.stopped = call.stopped or stop
            return []
        else:
            events = self._close_open()
            index, opened = self._open_tool_block(_ToolCall(tool_id, self._name(data)))
            events += opened + self._tool_fragment(index, fragment)
        if stop:
            events += self._close_open()
            events += self._release_held(stop_all=False)
        return events

    def _name(self, data: dict[str, Any]) -> str:
        return self._tool_names.from_kiro(str(data.get("name") or ""))

    def _open_tool_block(self, call: _ToolCall) -> tuple[int, list[AnthropicEvent]]:
        index = len(self._content)
        block = {"type": "tool_use", "id": call.id, "name": call.name, "input": {}}
        self._content.append(block)
        self._pieces[index] = []
        self._open_tool = (index, call)
        return index, [_block_start(index, block)]

    def _tool_fragment(self, index: int, fragment: str) -> list[AnthropicEvent]:
        if not fragment:
            return []
        self._pieces[index].append(fragment)
        return [_delta(index, {"type": "input_json_delta", "partial_json": fragment})]

    def _close_open(self) -> list[AnthropicEvent]:
        if self._open_text is not None:
            index = self._open_text
        elif self._open_tool is not None:
            index = self._open_tool[0]
        else:
            return []
        self._open_text = None
        self._open_tool = None
        return [("content_block_stop", {"type": "content_block_stop", "index": index})]

    def _release_held(self, *, stop_all: bool) -> list[AnthropicEvent]:
        """Emit held-back tool calls; one still unfinished stays open unless ``stop_all``."""
        events: list[AnthropicEvent] = []
        while self._held and self._open_tool is None:
            call = self._held.pop(next(iter(self._held)))
            index, opened = self._open_tool_block(call)
            events += opened + self._tool_fragment(index, call.input_json)
            if call.stopped or stop_all:
                events += self._close_open()
        return events


def _block_start(index: int, block: dict[str, Any]) -> AnthropicEvent:
    return (
        "content_block_start",
        {"type": "content_block_start", "index": index, "content_block": block},
    )


def _delta(index: int, delta: dict[str, Any]) -> AnthropicEvent:
    return ("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta})


def _tool_input(text: str) -> Any:
    if not text.strip():
        return {}
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        raise GatewayError(
            "upstream", 502, "Kiro sent a tool call whose input is not valid JSON"
        ) from None


def _stream_failure(frame: Frame) -> GatewayError:
    headers = frame.headers
    kind = str(headers.get(":exception-type") or headers.get(":error-code") or frame.message_type)
    message = ""
    try:
        data = orjson.loads(frame.payload)
    except orjson.JSONDecodeError:
        message = frame.payload.decode("utf-8", "replace")[:500]
    else:
        if isinstance(data, dict):
            message = str(data.get("message") or data.get("Message") or "")
    return GatewayError("upstream", 502, f"Kiro stream failed: {kind}: {message or 'no details'}")
