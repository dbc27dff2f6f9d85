"""Request bodies: OpenAI Chat Completions <-> Anthropic Messages.

The two shapes carry the same conversation differently. OpenAI keeps everything in one
``messages`` list: system prompts are messages, tool results are ``role: "tool"``
messages, tool calls hang off assistant messages. Anthropic lifts the system prompt to
the top level, makes tool calls and results content blocks (``tool_use`` in assistant
turns, ``tool_result`` in user turns) and wants user and assistant turns to alternate.

Both functions take a parsed body (with the upstream model id in ``model``) and the
route's :class:`~llm_gateway.translate.options.RouteOptions`, and return a new body.
Parameters that would change the answer and have no counterpart are the business of
:mod:`.unsupported`, checked before translation; content that cannot be expressed at all
raises a ``validation`` error so the client learns why rather than getting a silently
different request. The rules, feature by feature, are in docs/TRANSLATION.md.
"""

from __future__ import annotations

from typing import Any

from llm_gateway.errors import validation_error
from llm_gateway.translate.fields import anthropic_tool_use, openai_assistant_message
from llm_gateway.translate.malformed import blames, request_error
from llm_gateway.translate.options import RouteOptions, anthropic_max_tokens, is_reasoning_model
from llm_gateway.translate.reasoning import (
    anthropic_thinking,
    anthropic_thinking_blocks,
    openai_reasoning_effort,
    unsigned_reasoning,
)
from llm_gateway.translate.structured import (
    JSON_OBJECT_INSTRUCTION,
    JSON_PREFILL,
    anthropic_output_format,
    openai_response_format,
    wants_json_object,
)

_DEFAULT_OPTIONS = RouteOptions()

_ANTHROPIC_TOOL_CHOICES = {"auto": "auto", "none": "none", "required": "any"}
_OPENAI_TOOL_CHOICES = {value: key for key, value in _ANTHROPIC_TOOL_CHOICES.items()}


@blames(request_error)
def openai_request_to_anthropic(
    body: dict[str, Any], options: RouteOptions = _DEFAULT_OPTIONS
) -> dict[str, Any]:
    """An OpenAI Chat Completions request as an Anthropic Messages request."""
    if body.get("n", 1) != 1:
        raise validation_error("n other than 1 is not supported for this model", param="n")
    model = str(body.get("model") or "")
    system, messages = _anthropic_conversation(_list(body, "messages"))
    max_tokens = _max_tokens(body, model, options)
    out: dict[str, Any] = {"model": body.get("model"), "max_tokens": max_tokens}
    thinking = None
    if body.get("reasoning_effort") is not None:
        thinking = anthropic_thinking(body["reasoning_effort"], max_tokens)
        if forces_a_tool(body):
            thinking = None
    if body.get("response_format") is not None:
        output_format = anthropic_output_format(body["response_format"])
        if output_format is not None:
            out["output_config"] = {"format": output_format}
    if wants_json_object(body):
        system.append({"type": "text", "text": JSON_OBJECT_INSTRUCTION})
        if messages and json_prefill(body, options):
            messages.append({"role": "assistant", "content": JSON_PREFILL})
    if system:
        out["system"] = _anthropic_system(system)
    out["messages"] = messages
    if thinking is not None:
        out["thinking"] = thinking
    # Passed as given: a value outside Anthropic's range is the upstream's 400 to give.
    for name in ("temperature", "top_p", "top_k"):
        if body.get(name) is not None:
            out[name] = body[name]
    stop = body.get("stop")
    if stop:
        out["stop_sequences"] = [stop] if isinstance(stop, str) else list(stop)
    if "stream" in body:
        out["stream"] = bool(body["stream"])
    tools = body.get("tools") or [
        {"type": "function", "function": function} for function in body.get("functions") or ()
    ]
    if tools:
        out["tools"] = [_anthropic_tool(tool) for tool in tools]
        tool_choice = _anthropic_tool_choice(
            _legacy_tool_choice(body), body.get("parallel_tool_calls")
        )
        if tool_choice is not None:
            out["tool_choice"] = tool_choice
    if body.get("user"):
        out["metadata"] = {"user_id": body["user"]}
    return out


def forces_a_tool(body: dict[str, Any]) -> bool:
    """Whether an OpenAI request makes the model call a tool (``required``, or a named one).

    Anthropic refuses thinking with such a ``tool_choice`` (thinking allows only ``auto``
    and ``none``). The forced call is what the client's code waits for, and reasoning only
    how the model gets there, so the thinking is what goes.
    """
    if not (body.get("tools") or body.get("functions")):
        return False
    choice = _legacy_tool_choice(body)
    return choice == "required" or isinstance(choice, dict)


def drops_thinking(body: dict[str, Any]) -> bool:
    """Whether the reasoning an OpenAI request asks for is left out on its way to Anthropic
    because it forces a tool (see :func:`forces_a_tool`), which is worth a warning."""
    return body.get("reasoning_effort") not in (None, "none") and forces_a_tool(body)


def json_prefill(body: dict[str, Any], options: RouteOptions) -> str:
    """The text a ``json_object`` request prefills the Anthropic answer with ("" for none).

    The response translators put it back in front of the answer, which continues it.
    """
    messages = body.get("messages") or ()
    if (
        not wants_json_object(body)
        or not options.json_prefill
        or body.get("reasoning_effort") not in (None, "none")
        or (messages and messages[-1].get("role") == "assistant")
    ):
        return ""
    return JSON_PREFILL


@blames(request_error)
def anthropic_request_to_openai(
    body: dict[str, Any], options: RouteOptions = _DEFAULT_OPTIONS
) -> dict[str, Any]:
    """An Anthropic Messages request as an OpenAI Chat Completions request.

    A streaming request asks for ``stream_options.include_usage`` so the upstream reports
    token counts, which the Anthropic stream and the gateway's metrics both need. Reasoning
    models get ``max_completion_tokens`` and ``reasoning_effort``; others ``max_tokens``
    and no effort, since they cannot think (and refuse the parameter).
    """
    messages = _openai_system(body.get("system"))
    for message in _list(body, "messages"):
        messages.extend(_openai_messages(message))
    out: dict[str, Any] = {"model": body.get("model"), "messages": messages}
    reasoning = is_reasoning_model(str(body.get("model") or ""), options)
    if body.get("max_tokens") is not None:
        out["max_completion_tokens" if reasoning else "max_tokens"] = body["max_tokens"]
    # top_k is not OpenAI's, but vLLM, llama.cpp and SGLang take it; OpenAI answers 400.
    for name in ("temperature", "top_p", "top_k"):
        if body.get(name) is not None:
            out[name] = body[name]
    if body.get("stop_sequences"):
        out["stop"] = list(body["stop_sequences"])
    if "stream" in body:
        out["stream"] = bool(body["stream"])
        if out["stream"]:
            out["stream_options"] = {"include_usage": True}
    effort = openai_reasoning_effort(body)
    if effort is not None and reasoning:
        out["reasoning_effort"] = effort
    response_format = openai_response_format(body)
    if response_format is not None:
        out["response_format"] = response_format
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


def _max_tokens(body: dict[str, Any], model: str, options: RouteOptions) -> int:
    for name in ("max_completion_tokens", "max_tokens"):
        if body.get(name) is not None:
            return int(body[name])
    return anthropic_max_tokens(model, options)


# OpenAI -> Anthropic


def _anthropic_conversation(
    messages: list[dict[str, Any]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Split OpenAI messages into Anthropic system text blocks and alternating turns."""
    system: list[dict[str, Any]] = []
    turns: list[dict[str, Any]] = []
    # The legacy function role answers the latest assistant function_call, which had no id.
    function_call_id = ""
    for index, message in enumerate(messages):
        role = message.get("role")
        if role in ("system", "developer"):
            system.extend(_text_blocks(message.get("content"), message.get("cache_control")))
        elif role == "user":
            content = _anthropic_user_content(message.get("content"))
            _append_turn(turns, "user", _message_cached(content, message))
        elif role == "assistant":
            if message.get("function_call"):
                function_call_id = f"call_function_{index}"
            content = _anthropic_assistant_content(message, index)
            _append_turn(turns, "assistant", _message_cached(content, message))
        elif role in ("tool", "function"):
            answered = _answered_call(message, index, function_call_id)
            result = [_anthropic_tool_result(answered, message)]
            _append_turn(turns, "user", _message_cached(result, message))
        else:
            raise validation_error(f"unsupported message role {role!r}", param="messages")
    return system, turns


def _answered_call(message: dict[str, Any], index: int, function_call_id: str) -> str:
    """The id of the call a ``tool`` (or legacy ``function``) message answers."""
    if message["role"] == "tool":
        tool_call_id: str = message["tool_call_id"]
        return tool_call_id
    if not function_call_id:
        raise validation_error(
            f"messages[{index}] answers no assistant function_call", param="messages"
        )
    return function_call_id


def _append_turn(turns: list[dict[str, Any]], role: str, content: str | list[Any]) -> None:
    """Add a turn, merging it into the previous one when the role repeats.

    Anthropic rejects two user (or assistant) turns in a row, which OpenAI allows and
    which tool results (one OpenAI message each) produce routinely. A turn with no content
    is kept as empty text, never dropped: dropping it would merge its neighbours into a
    different conversation (or leave none), and whether empty text is acceptable is the
    upstream's call (Anthropic refuses it; Kiro fills it in).
    """
    if turns and turns[-1]["role"] == role:
        if content:
            turns[-1]["content"] = _as_blocks(turns[-1]["content"]) + _as_blocks(content)
    else:
        turns.append({"role": role, "content": content or ""})


def _as_blocks(content: str | list[Any]) -> list[Any]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    return content


def _anthropic_system(system: list[dict[str, Any]]) -> str | list[dict[str, Any]]:
    if len(system) == 1 and "cache_control" not in system[0]:
        text: str = system[0]["text"]
        return text
    return system


def _text_blocks(content: Any, cache_control: Any = None) -> list[dict[str, Any]]:
    """Text-only OpenAI content (system prompts, tool results) as Anthropic text blocks.

    ``cache_control`` on a part stays on its block; on the message (a common extension for
    string content) it goes on the message's last block, where Anthropic's cache ends.
    """
    parts = [{"type": "text", "text": content}] if isinstance(content, str) else content or ()
    blocks = [
        _cached({"type": "text", "text": text}, part)
        for part in parts
        if (text := _part_text(part))
    ]
    if cache_control and blocks:
        blocks[-1]["cache_control"] = cache_control
    return blocks


def _part_text(part: dict[str, Any]) -> str:
    kind = part.get("type")
    if kind not in ("text", "refusal"):
        raise validation_error(f"content part of type {kind!r} is not allowed here")
    text: str = part.get(kind) or ""
    return text


def _cached(block: dict[str, Any], part: dict[str, Any]) -> dict[str, Any]:
    """``block`` with the OpenAI ``part``'s ``cache_control``, if it has one."""
    if part.get("cache_control"):
        block["cache_control"] = part["cache_control"]
    return block


def _anthropic_user_content(content: Any) -> str | list[dict[str, Any]]:
    if isinstance(content, str):
        return content
    blocks: list[dict[str, Any]] = []
    for part in content or ():
        kind = part.get("type")
        if kind == "image_url":
            blocks.append(_cached(_anthropic_image(part["image_url"]["url"]), part))
        elif kind == "file":
            blocks.append(_cached(_anthropic_document(part["file"]), part))
        else:
            blocks.extend(_text_blocks([part]))
    return blocks


def _message_cached(
    content: str | list[dict[str, Any]], message: dict[str, Any]
) -> str | list[dict[str, Any]]:
    """A ``cache_control`` on the message itself (an extension several clients use) goes
    on its last block, where Anthropic's cache breakpoint then sits."""
    blocks = _as_blocks(content)
    if not message.get("cache_control") or not blocks:
        return content
    blocks[-1] = {**blocks[-1], "cache_control": message["cache_control"]}
    return blocks


def _data_url(url: str, what: str) -> tuple[str, str]:
    """``data:MEDIA;base64,DATA`` as ``(MEDIA, DATA)``."""
    header, comma, data = url[len("data:") :].partition(",")
    media_type, _, encoding = header.partition(";")
    if not url.startswith("data:") or not comma or encoding != "base64":
        raise validation_error(f"{what} data URLs must be base64-encoded", param="messages")
    return media_type, data


def _anthropic_image(url: str) -> dict[str, Any]:
    """An OpenAI image URL (``data:`` or http(s)) as an Anthropic image block."""
    if not url.startswith("data:"):
        return {"type": "image", "source": {"type": "url", "url": url}}
    media_type, data = _data_url(url, "image")
    return {"type": "image", "source": {"type": "base64", "media_type": media_type, "data": data}}


def _anthropic_document(file: dict[str, Any]) -> dict[str, Any]:
    """An OpenAI ``file`` part (a PDF as a data URL) as an Anthropic ``document`` block."""
    if not file.get("file_data"):
        raise validation_error(
            "file parts need file_data (a data URL); uploaded file ids cannot be translated",
            param="messages",
        )
    media_type, data = _data_url(file["file_data"], "file")
    block: dict[str, Any] = {
        "type": "document",
        "source": {"type": "base64", "media_type": media_type, "data": data},
    }
    if file.get("filename"):
        block["title"] = file["filename"]
    return block


def _anthropic_assistant_content(message: dict[str, Any], index: int) -> str | list[dict[str, Any]]:
    """An assistant turn: its signed thinking first, as Anthropic requires, then its text
    (or refusal), then its tool calls."""
    content = message.get("content")
    thinking = anthropic_thinking_blocks(message)
    calls = list(message.get("tool_calls") or ())
    if message.get("function_call"):
        function = message["function_call"]
        calls.append({"id": f"call_function_{index}", "function": function})
    if isinstance(content, str) and not calls and not thinking:
        return content
    blocks = thinking + _text_blocks(content or message.get("refusal"))
    blocks.extend(anthropic_tool_use(call) for call in calls)
    return blocks


def _anthropic_tool_result(tool_use_id: str, message: dict[str, Any]) -> dict[str, Any]:
    content = message.get("content")
    return {
        "type": "tool_result",
        "tool_use_id": tool_use_id,
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
    if function.get("strict"):
        out["strict"] = True
    return _cached(out, tool)


def _legacy_tool_choice(body: dict[str, Any]) -> Any:
    """``tool_choice``, or the legacy ``function_call`` spelled as one."""
    if "tool_choice" in body or body.get("function_call") is None:
        return body.get("tool_choice")
    choice = body["function_call"]
    return {"function": choice} if isinstance(choice, dict) else choice


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
        message = openai_assistant_message(content)
        reasoning = unsigned_reasoning(content)
        if reasoning:
            message["reasoning_content"] = reasoning
        return [message]
    if role != "user":
        raise validation_error(f"unsupported message role {role!r}", param="messages")
    if isinstance(content, str):
        return [{"role": "user", "content": content}]
    # Tool results answer the previous assistant turn, so OpenAI needs them first, as
    # tool messages, before whatever else the user said in the same turn.
    results = [_openai_tool_message(block) for block in content if block["type"] == "tool_result"]
    parts = [_openai_user_part(block) for block in content if block["type"] != "tool_result"]
    if parts or not results:
        # An empty turn stays a turn (empty text), as it was.
        results.append({"role": "user", "content": parts or ""})
    return results


def _openai_user_part(block: dict[str, Any]) -> dict[str, Any]:
    kind = block.get("type")
    if kind == "text":
        return {"type": "text", "text": block["text"]}
    if kind == "image":
        return {"type": "image_url", "image_url": {"url": _openai_image_url(block["source"])}}
    if kind == "document":
        return _openai_file(block)
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


def _openai_file(block: dict[str, Any]) -> dict[str, Any]:
    """An Anthropic ``document`` as an OpenAI ``file`` part (base64) or text (plain text)."""
    source = block["source"]
    if source.get("type") == "text":
        return {"type": "text", "text": source["data"]}
    if source.get("type") != "base64":
        raise validation_error(
            f"{source.get('type')} document sources are not supported for this model",
            param="messages",
        )
    file_data = f"data:{source['media_type']};base64,{source['data']}"
    return {
        "type": "file",
        "file": {"filename": block.get("title") or "document.pdf", "file_data": file_data},
    }


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
    if tool.get("strict"):
        function["strict"] = True
    return {"type": "function", "function": function}


def _openai_tool_choice(choice: dict[str, Any]) -> Any:
    kind = choice.get("type")
    if kind == "tool":
        return {"type": "function", "function": {"name": choice["name"]}}
    if kind in _OPENAI_TOOL_CHOICES:
        return _OPENAI_TOOL_CHOICES[kind]
    raise validation_error(f"unsupported tool_choice type {kind!r}", param="tool_choice")
