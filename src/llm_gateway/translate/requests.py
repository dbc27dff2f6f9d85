"""Request bodies: OpenAI Chat Completions <-> Anthropic Messages.

The two shapes carry the same conversation differently. OpenAI keeps everything in one
``messages`` list: system prompts are messages, tool results are ``role: "tool"``
messages, tool calls hang off assistant messages. Anthropic lifts the system prompt to
the top level, makes tool calls and results content blocks (``tool_use`` in assistant
turns, ``tool_result`` in user turns) and wants user and assistant turns to alternate.

Both functions take a parsed body and return a new one; ``model`` is copied as given
because the caller fills in the upstream model id. Parameters with no counterpart are
dropped; content that cannot be expressed at all raises a ``validation`` error so the
client learns why rather than getting a silently different request.
"""

from __future__ import annotations

from typing import Any

from llm_gateway.errors import validation_error
from llm_gateway.translate.fields import anthropic_tool_use, openai_assistant_message
from llm_gateway.translate.malformed import blames, request_error

DEFAULT_MAX_TOKENS = 4096
"""Anthropic requires ``max_tokens``; OpenAI clients may leave it out."""

_ANTHROPIC_TOOL_CHOICES = {"auto": "auto", "none": "none", "required": "any"}
_OPENAI_TOOL_CHOICES = {value: key for key, value in _ANTHROPIC_TOOL_CHOICES.items()}


@blames(request_error)
def openai_request_to_anthropic(body: dict[str, Any]) -> dict[str, Any]:
    """An OpenAI Chat Completions request as an Anthropic Messages request."""
    if body.get("n", 1) != 1:
        raise validation_error("n other than 1 is not supported for this model", param="n")
    system, messages = _anthropic_conversation(_list(body, "messages"))
    out: dict[str, Any] = {"model": body.get("model"), "max_tokens": _max_tokens(body)}
    if system:
        out["system"] = system[0]["text"] if len(system) == 1 else system
    out["messages"] = messages
    if body.get("temperature") is not None:
        # OpenAI's range is 0-2, Anthropic's 0-1: the top of one is the top of the other.
        out["temperature"] = min(body["temperature"], 1.0)
    if body.get("top_p") is not None:
        out["top_p"] = body["top_p"]
    stop = body.get("stop")
    if stop:
        out["stop_sequences"] = [stop] if isinstance(stop, str) else list(stop)
    if "stream" in body:
        out["stream"] = bool(body["stream"])
    if body.get("tools"):
        out["tools"] = [_anthropic_tool(tool) for tool in body["tools"]]
        tool_choice = _anthropic_tool_choice(
            body.get("tool_choice"), body.get("parallel_tool_calls")
        )
        if tool_choice is not None:
            out["tool_choice"] = tool_choice
    if body.get("user"):
        out["metadata"] = {"user_id": body["user"]}
    return out


@blames(request_error)
def anthropic_request_to_openai(body: dict[str, Any]) -> dict[str, Any]:
    """An Anthropic Messages request as an OpenAI Chat Completions request.

    A streaming request asks for ``stream_options.include_usage`` so the upstream reports
    token counts, which the Anthropic stream and the gateway's metrics both need.
    """
    messages = _openai_system(body.get("system"))
    for message in _list(body, "messages"):
        messages.extend(_openai_messages(message))
    out: dict[str, Any] = {"model": body.get("model"), "messages": messages}
    if body.get("max_tokens") is not None:
        out["max_tokens"] = body["max_tokens"]
    for name in ("temperature", "top_p"):
        if body.get(name) is not None:
            out[name] = body[name]
    if body.get("stop_sequences"):
        out["stop"] = list(body["stop_sequences"])
    if "stream" in body:
        out["stream"] = bool(body["stream"])
        if out["stream"]:
            out["stream_options"] = {"include_usage": True}
    if body.get("tools"):
        out["tools"] = [_openai_tool(tool) for tool in body["tools"]]
        tool_choice = body.get("tool_choice")
        if tool_choice:
            out["tool_choice"] = _openai_tool_choice(tool_choice)
            if tool_choice.get("disable_parallel_tool_use"):
                out["parallel_tool_calls"] = False
    user_id = (body.get("metadata") or {}).get("user_id")
    if user_id:
        out["user"] = user_id
    return out


def _list(body: dict[str, Any], name: str) -> list[dict[str, Any]]:
    value = body.get(name)
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise validation_error(f"{name} must be a list of objects", param=name)
    return value


def _max_tokens(body: dict[str, Any]) -> int:
    for name in ("max_completion_tokens", "max_tokens"):
        if body.get(name) is not None:
            return int(body[name])
    return DEFAULT_MAX_TOKENS


# OpenAI -> Anthropic


def _anthropic_conversation(
    messages: list[dict[str, Any]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Split OpenAI messages into Anthropic system text blocks and alternating turns."""
    system: list[dict[str, Any]] = []
    turns: list[dict[str, Any]] = []
    for message in messages:
        role = message.get("role")
        if role in ("system", "developer"):
            system.extend(_text_blocks(message.get("content")))
        elif role == "user":
            _append_turn(turns, "user", _anthropic_user_content(message.get("content")))
        elif role == "assistant":
            _append_turn(turns, "assistant", _anthropic_assistant_content(message))
        elif role == "tool":
            _append_turn(turns, "user", [_anthropic_tool_result(message)])
        else:
            raise validation_error(f"unsupported message role {role!r}", param="messages")
    return system, turns


def _append_turn(turns: list[dict[str, Any]], role: str, content: str | list[Any]) -> None:
    """Add a turn, merging it into the previous one when the role repeats.

    Anthropic rejects two user (or assistant) turns in a row, which OpenAI allows and
    which tool results (one OpenAI message each) produce routinely.
    """
    if not content:
        return
    if turns and turns[-1]["role"] == role:
        turns[-1]["content"] = _as_blocks(turns[-1]["content"]) + _as_blocks(content)
    else:
        turns.append({"role": role, "content": content})


def _as_blocks(content: str | list[Any]) -> list[Any]:
    return [{"type": "text", "text": content}] if isinstance(content, str) else content


def _text_blocks(content: Any) -> list[dict[str, Any]]:
    """Text-only OpenAI content (system prompts, tool results) as Anthropic text blocks."""
    texts = [content] if isinstance(content, str) else [_part_text(part) for part in content or ()]
    return [{"type": "text", "text": text} for text in texts if text]


def _part_text(part: dict[str, Any]) -> str:
    kind = part.get("type")
    if kind not in ("text", "refusal"):
        raise validation_error(f"content part of type {kind!r} is not allowed here")
    text: str = part.get(kind) or ""
    return text


def _anthropic_user_content(content: Any) -> str | list[dict[str, Any]]:
    if isinstance(content, str):
        return content
    blocks: list[dict[str, Any]] = []
    for part in content or ():
        if part.get("type") == "image_url":
            blocks.append(_anthropic_image(part["image_url"]["url"]))
        else:
            blocks.extend(_text_blocks([part]))
    return blocks


def _anthropic_image(url: str) -> dict[str, Any]:
    """An OpenAI image URL (``data:`` or http(s)) as an Anthropic image block."""
    if not url.startswith("data:"):
        return {"type": "image", "source": {"type": "url", "url": url}}
    header, comma, data = url[len("data:") :].partition(",")
    media_type, _, encoding = header.partition(";")
    if not comma or encoding != "base64":
        raise validation_error("image data URLs must be base64-encoded", param="messages")
    return {"type": "image", "source": {"type": "base64", "media_type": media_type, "data": data}}


def _anthropic_assistant_content(message: dict[str, Any]) -> str | list[dict[str, Any]]:
    content = message.get("content")
    calls = message.get("tool_calls") or []
    if isinstance(content, str) and not calls:
        return content
    blocks = _text_blocks(content)
    blocks.extend(anthropic_tool_use(call) for call in calls)
    return blocks


def _anthropic_tool_result(message: dict[str, Any]) -> dict[str, Any]:
    content = message.get("content")
    return {
        "type": "tool_result",
        "tool_use_id": message["tool_call_id"],
        "content": content if isinstance(content, str) else _text_blocks(content),
    }


def _anthropic_tool(tool: dict[str, Any]) -> dict[str, Any]:
    if tool.get("type") != "function":
        raise validation_error(
            f"tools of type {tool.get('type')!r} are not supported", param="tools"
        )
    function = tool["function"]
    out: dict[str, Any] = {"name": function["name"]}
    if function.get("description"):
        out["description"] = function["description"]
    out["input_schema"] = function.get("parameters") or {"type": "object", "properties": {}}
    return out


def _anthropic_tool_choice(choice: Any, parallel_tool_calls: Any) -> dict[str, Any] | None:
    if isinstance(choice, dict):
        out: dict[str, Any] = {"type": "tool", "name": choice["function"]["name"]}
    elif choice in _ANTHROPIC_TOOL_CHOICES:
        out = {"type": _ANTHROPIC_TOOL_CHOICES[choice]}
    elif choice is None:
        if parallel_tool_calls is not False:
            return None
        out = {"type": "auto"}
    else:
        raise validation_error(f"unsupported tool_choice {choice!r}", param="tool_choice")
    if parallel_tool_calls is False and out["type"] != "none":
        out["disable_parallel_tool_use"] = True
    return out


# Anthropic -> OpenAI


def _openai_system(system: Any) -> list[dict[str, Any]]:
    """Each Anthropic system text block becomes one OpenAI system message."""
    if not system:
        return []
    if isinstance(system, str):
        return [{"role": "system", "content": system}]
    return [{"role": "system", "content": block["text"]} for block in system]


def _openai_messages(message: dict[str, Any]) -> list[dict[str, Any]]:
    role = message.get("role")
    content = message["content"]
    if role == "assistant":
        if isinstance(content, str):
            return [{"role": "assistant", "content": content}]
        return [openai_assistant_message(content)]
    if role != "user":
        raise validation_error(f"unsupported message role {role!r}", param="messages")
    if isinstance(content, str):
        return [{"role": "user", "content": content}]
    # Tool results answer the previous assistant turn, so OpenAI needs them first, as
    # tool messages, before whatever else the user said in the same turn.
    results = [_openai_tool_message(block) for block in content if block["type"] == "tool_result"]
    parts = [_openai_user_part(block) for block in content if block["type"] != "tool_result"]
    if parts:
        results.append({"role": "user", "content": parts})
    return results


def _openai_user_part(block: dict[str, Any]) -> dict[str, Any]:
    kind = block.get("type")
    if kind == "text":
        return {"type": "text", "text": block["text"]}
    if kind == "image":
        return {"type": "image_url", "image_url": {"url": _openai_image_url(block["source"])}}
    raise validation_error(
        f"{kind} content blocks are not supported for this model", param="messages"
    )


def _openai_image_url(source: dict[str, Any]) -> str:
    if source.get("type") == "base64":
        return f"data:{source['media_type']};base64,{source['data']}"
    if source.get("type") == "url":
        url: str = source["url"]
        return url
    raise validation_error(
        f"{source.get('type')} image sources are not supported", param="messages"
    )


def _openai_tool_message(block: dict[str, Any]) -> dict[str, Any]:
    content: Any = block.get("content") or ""
    if not isinstance(content, str):
        content = [_openai_tool_result_part(part) for part in content]
    return {"role": "tool", "tool_call_id": block["tool_use_id"], "content": content}


def _openai_tool_result_part(block: dict[str, Any]) -> dict[str, Any]:
    if block.get("type") != "text":
        raise validation_error(
            f"{block.get('type')} blocks in tool results are not supported for this model",
            param="messages",
        )
    return {"type": "text", "text": block["text"]}


def _openai_tool(tool: dict[str, Any]) -> dict[str, Any]:
    if tool.get("type", "custom") != "custom":
        raise validation_error(
            f"tool {tool.get('name')!r} of type {tool['type']!r} has no OpenAI equivalent",
            param="tools",
        )
    function: dict[str, Any] = {"name": tool["name"]}
    if tool.get("description"):
        function["description"] = tool["description"]
    function["parameters"] = tool["input_schema"]
    return {"type": "function", "function": function}


def _openai_tool_choice(choice: dict[str, Any]) -> Any:
    kind = choice.get("type")
    if kind == "tool":
        return {"type": "function", "function": {"name": choice["name"]}}
    if kind in _OPENAI_TOOL_CHOICES:
        return _OPENAI_TOOL_CHOICES[kind]
    raise validation_error(f"unsupported tool_choice type {kind!r}", param="tool_choice")
