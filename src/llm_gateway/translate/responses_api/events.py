"""A Responses API event stream, written item by item in the order clients rely on.

The order is the API's contract, and Codex depends on it: ``response.created`` and
``response.in_progress``; then for each output item ``response.output_item.added``, its
deltas (text inside a ``content_part``), their ``.done`` events and
``response.output_item.done`` carrying the **complete** item; last
``response.completed`` (or ``response.incomplete``, or ``response.failed``) with the
whole response. :class:`OutputStream` keeps that order by construction: one item is open
at a time, and closing it writes every ``.done`` event for it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import orjson

from llm_gateway.sse import encode_event
from llm_gateway.translate.responses_api.objects import (
    EventWriter,
    call_item,
    message_item,
    output_text,
    reasoning_item,
)

_DELTA_EVENTS = {
    "message": "response.output_text.delta",
    "refusal": "response.refusal.delta",
    "reasoning": "response.reasoning_text.delta",
    "function_call": "response.function_call_arguments.delta",
    "custom_tool_call": "response.custom_tool_call_input.delta",
}


class OutputStream:
    """Writes the events of one response and remembers its complete output items."""

    def __init__(self) -> None:
        self._write = EventWriter()
        self.output: list[dict[str, Any]] = []
        """The items closed so far, complete, as the final response lists them."""
        self._item: dict[str, Any] | None = None
        self._refusal = False
        self._pieces: list[str] = []

    @property
    def open_kind(self) -> str | None:
        """The ``type`` of the item being written, if one is open (``refusal`` for a
        message that refuses)."""
        if self._item is None:
            return None
        return "refusal" if self._refusal else str(self._item["type"])

    def created(self, response: dict[str, Any]) -> list[bytes]:
        return [
            self._write("response.created", response=response),
            self._write("response.in_progress", response=response),
        ]

    def open_message(self, item_id: str, *, refusal: bool = False) -> list[bytes]:
        out = self._open(message_item(item_id, [], "in_progress"))
        self._refusal = refusal
        part = _refusal_part("") if refusal else output_text("")
        out.append(self._part_event("response.content_part.added", part))
        return out

    def open_reasoning(self, item_id: str) -> list[bytes]:
        out = self._open(reasoning_item(item_id, None))
        out.append(self._part_event("response.content_part.added", _reasoning_text("")))
        return out

    def open_call(
        self, item_id: str, call_id: str, name: str, *, custom: bool, namespace: str | None
    ) -> list[bytes]:
        item = call_item(
            item_id, call_id, name, "", "in_progress", custom=custom, namespace=namespace
        )
        return self._open(item)

    def delta(self, text: str) -> bytes:
        """More of the open item: text, reasoning, arguments JSON or custom tool input."""
        self._pieces.append(text)
        kind, fields = self._delta_fields()
        return self._write(kind, **fields, delta=text)

    def deltas(self, pieces: Sequence[str]) -> Callable[[int], bytes]:
        """All of ``pieces`` as deltas of the open item, each event encoded only when
        asked for (``make(i)`` is the i-th, numbered as if written in turn): a reply of
        100,000 pieces is sent without first being encoded whole."""
        self._pieces.extend(pieces)
        kind, fields = self._delta_fields()
        first = self._write.sequence_number
        self._write.sequence_number += len(pieces)

        def make(index: int) -> bytes:
            data = {"type": kind, "sequence_number": first + index, **fields}
            data["delta"] = pieces[index]
            return encode_event(orjson.dumps(data), kind)

        return make

    def _delta_fields(self) -> tuple[str, dict[str, Any]]:
        """The open item's delta event type, and the fields each of its deltas carries."""
        assert self._item is not None, "no item is open"
        fields: dict[str, Any] = {"item_id": self._item["id"], "output_index": len(self.output)}
        kind = self.open_kind
        assert kind is not None
        if kind in ("message", "refusal", "reasoning"):
            fields["content_index"] = 0
        if kind == "message":
            fields["logprobs"] = []
        return _DELTA_EVENTS[kind], fields

    def close(self, **extra: Any) -> list[bytes]:
        """The ``.done`` events of the open item (if any), ending with the complete item
        (with ``extra`` fields that only the end of the item tells)."""
        item = self._item
        if item is None:
            return []
        item.update(extra)
        text = "".join(self._pieces)
        where = {"item_id": item["id"], "output_index": len(self.output)}
        out: list[bytes] = []
        kind = self.open_kind
        if kind == "refusal":
            part = _refusal_part(text)
            out.append(self._write("response.refusal.done", **where, content_index=0, refusal=text))
            out.append(self._part_event("response.content_part.done", part))
            item["content"] = [part]
        elif kind == "message":
            part = output_text(text)
            out.append(
                self._write(
                    "response.output_text.done", **where, content_index=0, text=text, logprobs=[]
                )
            )
            out.append(self._part_event("response.content_part.done", part))
            item["content"] = [part]
        elif kind == "reasoning":
            out.append(
                self._write("response.reasoning_text.done", **where, content_index=0, text=text)
            )
            out.append(self._part_event("response.content_part.done", _reasoning_text(text)))
            item["content"] = [_reasoning_text(text)]
        elif kind == "function_call":
            out.append(
                self._write(
                    "response.function_call_arguments.done",
                    **where,
                    name=item["name"],
                    arguments=text,
                )
            )
            item["arguments"] = text
        else:
            out.append(self._write("response.custom_tool_call_input.done", **where, input=text))
            item["input"] = text
        if "status" in item:
            item["status"] = "completed"
        out.append(
            self._write("response.output_item.done", output_index=len(self.output), item=item)
        )
        self.output.append(item)
        self._item = None
        self._refusal = False
        self._pieces = []
        return out

    def finished(self, response: dict[str, Any]) -> bytes:
        """The last event: ``response.completed``, or ``response.incomplete`` when it is."""
        kind = "response.incomplete" if response["status"] == "incomplete" else "response.completed"
        return self._write(kind, response=response)

    def failed(self, response: dict[str, Any]) -> bytes:
        return self._write("response.failed", response=response)

    def _open(self, item: dict[str, Any]) -> list[bytes]:
        out = self.close()
        self._item = item
        out.append(
            self._write("response.output_item.added", output_index=len(self.output), item=item)
        )
        return out

    def _part_event(self, kind: str, part: dict[str, Any]) -> bytes:
        assert self._item is not None
        return self._write(
            kind,
            item_id=self._item["id"],
            output_index=len(self.output),
            content_index=0,
            part=part,
        )


def _refusal_part(text: str) -> dict[str, Any]:
    return {"type": "refusal", "refusal": text}


def _reasoning_text(text: str) -> dict[str, Any]:
    return {"type": "reasoning_text", "text": text}
