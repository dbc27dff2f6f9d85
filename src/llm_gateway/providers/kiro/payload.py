"""Anthropic Messages request -> Kiro ``conversationState``.

Kiro models a conversation as strictly alternating user and assistant turns, the last
user turn apart as ``currentMessage``. Its validator is stricter than Anthropic's, so the
translation also repairs what Anthropic accepts and Kiro does not:

- adjacent messages of the same role are merged into one turn;
- the system prompt becomes the start of the first user turn (Kiro has no system field);
- empty text is replaced by a placeholder, because Kiro rejects empty content;
- a tool result whose tool use is not in the preceding assistant turn (a trimmed or
  compacted history) is sent as plain text, because Kiro rejects orphaned results;
- tool names longer than 64 characters are shortened, and :class:`ToolNames` maps the
  names in the answer back.

Sampling parameters (``temperature``, ``top_p``, ``top_k``, ``stop_sequences``),
``tool_choice``, ``thinking`` (and thinking blocks in the history), ``cache_control``
and tools' ``strict`` have no Kiro equivalent and are not sent; ``max_tokens`` is
enforced on the answer (see :mod:`.translate`). Structured output (``output_config.format``
or the beta ``output_format``) becomes an instruction at the end of the system prompt,
since Kiro cannot constrain its output; documents are refused.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from llm_gateway.errors import validation_error
from llm_gateway.translate.structured import schema_instruction

MAX_TOOL_NAME = 64
# Kiro answers CONTENT_LENGTH_EXCEEDS_THRESHOLD above about this size; refusing here
# gives the client the same verdict without a round trip.
MAX_PAYLOAD_BYTES = 600_000

# Kiro rejects empty content, and a turn may legitimately have none (tool calls only,
# tool results only, an image only). A single dot is the least text that passes.
EMPTY_TEXT = "."
EMPTY_TOOL_RESULT = "(no output)"

_IMAGE_FORMATS = {
    "image/png": "png",
    "image/jpeg": "jpeg",
    "image/gif": "gif",
    "image/webp": "webp",
}
_IGNORED_BLOCKS = {"thinking", "redacted_thinking"}


class ToolNames:
    """Anthropic tool names <-> Kiro tool names (which are at most 64 characters)."""

    def __init__(self) -> None:
        self._originals: dict[str, str] = {}

    def to_kiro(self, name: str) -> str:
        if len(name) <= MAX_TOOL_NAME:
            return name
        # A hash suffix keeps two long names with a common prefix distinct, and the same
        # name always shortens the same way (the history must match the tool list).
        digest = hashlib.sha256(name.encode()).hexdigest()[:8]
        short = f"{name[: MAX_TOOL_NAME - 9]}_{digest}"
        self._originals[short] = name
        return short

    def from_kiro(self, name: str) -> str:
        return self._originals.get(name, name)


@dataclass
class _Turn:
    role: str
    texts: list[str] = field(default_factory=list)
    images: list[dict[str, Any]] = field(default_factory=list)
    tool_uses: list[dict[str, Any]] = field(default_factory=list)
    tool_results: list[dict[str, Any]] = field(default_factory=list)


def build_payload(
    request: dict[str, Any],
    *,
    model_id: str,
    conversation_id: str,
    profile_arn: str = "",
    tool_names: ToolNames,
) -> bytes:
    """The serialised ``generateAssistantResponse`` body for an Anthropic ``request``.

    Raises a ``validation`` :class:`~llm_gateway.errors.GatewayError` for requests Kiro
    cannot express (assistant prefill, URL images, documents) or that are too large.
    """
    try:
        state = _conversation_state(request, model_id, tool_names)
    except (KeyError, TypeError, AttributeError) as exc:
        raise validation_error(f"malformed request for Kiro ({exc!r})") from exc
    state["conversationId"] = conversation_id
    payload: dict[str, Any] = {"conversationState": state}
    if profile_arn:
        payload["profileArn"] = profile_arn
    data = orjson.dumps(payload)
    if len(data) > MAX_PAYLOAD_BYTES:
        raise validation_error(
            f"request is {len(data) // 1000} KB once translated; Kiro rejects payloads over "
            f"about {MAX_PAYLOAD_BYTES // 1000} KB (context too long)"
        )
    return data


def _conversation_state(
    request: dict[str, Any], model_id: str, tool_names: ToolNames
) -> dict[str, Any]:
    turns = _merge(_turn(message, tool_names) for message in _messages(request))
    if not turns or turns[0].role != "user":
        raise validation_error("Kiro requires the conversation to start with a user message")
    if turns[-1].role != "user":
        raise validation_error(
            "Kiro cannot continue a prefilled assistant message", param="messages"
        )
    system = "\n\n".join(
        text for text in (_system_text(request.get("system")), schema_instruction(request)) if text
    )
    if system:
        turns[0].texts.insert(0, system)
    _demote_orphaned_results(turns)

    current = _user_message(turns[-1], model_id)
    tools = [_tool_spec(tool, tool_names) for tool in request.get("tools") or ()]
    if tools:
        current.setdefault("userInputMessageContext", {})["tools"] = tools
    return {
        "chatTriggerType": "MANUAL",
        "currentMessage": {"userInputMessage": current},
        "history": [_history_entry(turn, model_id) for turn in turns[:-1]],
    }


def _messages(request: dict[str, Any]) -> list[dict[str, Any]]:
    messages = request.get("messages")
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        raise validation_error("messages must be a list of objects", param="messages")
    return messages


def _system_text(system: Any) -> str:
    if isinstance(system, str):
        return system
    if isinstance(system, list):
        return "\n\n".join(block["text"] for block in system if block.get("type") == "text")
    return ""


def _turn(message: dict[str, Any], tool_names: ToolNames) -> _Turn:
    role = message.get("role")
    if role not in ("user", "assistant"):
        raise validation_error(f"unknown message role {role!r}", param="messages")
    turn = _Turn(role)
    content = message.get("content")
    if isinstance(content, str):
        turn.texts.append(content)
        return turn
    for block in content or ():
        kind = block.get("type")
        if kind == "text":
            turn.texts.append(block["text"])
        elif kind == "image":
            turn.images.append(_image(block))
        elif kind == "tool_use":
            turn.tool_uses.append(
                {
                    "name": tool_names.to_kiro(block["name"]),
                    "input": block.get("input") or {},
                    "toolUseId": block["id"],
                }
            )
        elif kind == "tool_result":
            text, images = _tool_result_content(block.get("content"))
            turn.images.extend(images)
            turn.tool_results.append(
                {
                    "content": [{"text": text}],
                    "status": "error" if block.get("is_error") else "success",
                    "toolUseId": block["tool_use_id"],
                }
            )
        elif kind not in _IGNORED_BLOCKS:
            raise validation_error(
                f"Kiro does not accept {kind!r} content blocks", param="messages"
            )
    return turn


def _tool_result_content(content: Any) -> tuple[str, list[dict[str, Any]]]:
    if isinstance(content, str):
        return content or EMPTY_TOOL_RESULT, []
    texts: list[str] = []
    images: list[dict[str, Any]] = []
    for block in content or ():
        if block.get("type") == "text":
            texts.append(block["text"])
        elif block.get("type") == "image":
            images.append(_image(block))
    return "\n".join(texts) or EMPTY_TOOL_RESULT, images


def _image(block: dict[str, Any]) -> dict[str, Any]:
    source = block.get("source") or {}
    if source.get("type") != "base64":
        raise validation_error("Kiro accepts images only as base64 data", param="messages")
    image_format = _IMAGE_FORMATS.get(source.get("media_type", ""))
    if image_format is None:
        raise validation_error(
            f"Kiro does not accept images of type {source.get('media_type')!r}", param="messages"
        )
    return {"format": image_format, "source": {"bytes": source["data"]}}


def _merge(turns: Iterable[_Turn]) -> list[_Turn]:
    merged: list[_Turn] = []
    for turn in turns:
        if merged and merged[-1].role == turn.role:
            last = merged[-1]
            last.texts.extend(turn.texts)
            last.images.extend(turn.images)
            last.tool_uses.extend(turn.tool_uses)
            last.tool_results.extend(turn.tool_results)
        else:
            merged.append(turn)
    return merged


def _demote_orphaned_results(turns: list[_Turn]) -> None:
    used: set[str] = set()
    for turn in turns:
        if turn.role == "assistant":
            used = {use["toolUseId"] for use in turn.tool_uses}
            continue
        kept = []
        for result in turn.tool_results:
            if result["toolUseId"] in used:
                kept.append(result)
            else:
                text = result["content"][0]["text"]
                turn.texts.append(f"[Result of tool call {result['toolUseId']}]\n{text}")
        turn.tool_results = kept
        used = set()


def _text(turn: _Turn) -> str:
    return "\n\n".join(text for text in turn.texts if text) or EMPTY_TEXT


def _user_message(turn: _Turn, model_id: str) -> dict[str, Any]:
    message: dict[str, Any] = {"content": _text(turn), "modelId": model_id, "origin": "AI_EDITOR"}
    if turn.images:
        message["images"] = turn.images
    if turn.tool_results:
        message["userInputMessageContext"] = {"toolResults": turn.tool_results}
    return message


def _history_entry(turn: _Turn, model_id: str) -> dict[str, Any]:
    if turn.role == "user":
        return {"userInputMessage": _user_message(turn, model_id)}
    response: dict[str, Any] = {"content": _text(turn)}
    if turn.tool_uses:
        response["toolUses"] = turn.tool_uses
    return {"assistantResponseMessage": response}


def _tool_spec(tool: dict[str, Any], tool_names: ToolNames) -> dict[str, Any]:
    if "input_schema" not in tool:
        raise validation_error(
            f"Kiro does not support server tools ({tool.get('type') or tool.get('name')!r})",
            param="tools",
        )
    name = tool["name"]
    return {
        "toolSpecification": {
            "name": tool_names.to_kiro(name),
            # Kiro rejects an empty description; the name is the best one we have.
            "description": tool.get("description") or name,
            "inputSchema": {"json": tool["input_schema"]},
        }
    }
