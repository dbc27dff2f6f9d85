"""Requests: the Responses API -> Chat Completions.

The Responses API keeps a conversation as a list of *items*: messages (roles
``developer``, ``system``, ``user``, ``assistant``), the model's ``function_call`` and
``custom_tool_call`` items, the client's ``*_output`` items answering them, and items only
OpenAI can read (``reasoning`` with encrypted content, ``item_reference``). Chat
Completions keeps one list of messages. The rules, in the order a request meets them:

* ``instructions`` and ``developer``/``system`` messages become system messages, which the
  Anthropic translation then lifts into the system prompt.
* Function tools map one to one. The functions inside a ``namespace`` tool are offered
  flat, under their own names (``namespace__name`` if a name is taken twice). A ``custom``
  (free-form) tool becomes a function with one string parameter ``input``. Hosted tools
  (``web_search`` and every other type) cannot run on a translated upstream: they are
  dropped, and :attr:`ResponsesTemplate.dropped_tools` names them for a warning.
* ``function_call`` items join the assistant message before them as ``tool_calls``;
  ``*_output`` items become ``tool`` messages (images in them follow as a user message).
* ``reasoning`` items whose ``encrypted_content`` the gateway sealed (signed Anthropic
  thinking, see :mod:`.thinking`) become the ``thinking_blocks`` of the assistant message
  after them; other reasoning and ``compaction`` items are dropped, their content being
  encrypted for OpenAI. The calls of hosted tools are dropped with their tools.
* ``previous_response_id``, ``conversation``, ``item_reference`` and the like ask for
  state the gateway does not keep: a 400 telling the client to send the whole history.

The reply needs to know how tool names map back, and what a ``response`` object repeats
from its request: both are in the :class:`ResponsesTemplate` returned beside the body.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from llm_gateway.errors import validation_error
from llm_gateway.translate.fields import json_text
from llm_gateway.translate.malformed import blames, request_error
from llm_gateway.translate.responses_api.thinking import unseal

_STATEFUL = ("previous_response_id", "conversation", "prompt")
_NOT_TRANSLATED_ITEMS = frozenset(
    {
        "reasoning",
        "compaction",
        "web_search_call",
        "file_search_call",
        "computer_call",
        "computer_call_output",
        "code_interpreter_call",
        "image_generation_call",
        "local_shell_call",
        "local_shell_call_output",
        "shell_call",
        "shell_call_output",
        "apply_patch_call",
        "apply_patch_call_output",
        "mcp_list_tools",
        "mcp_approval_request",
        "mcp_approval_response",
        "mcp_call",
        "tool_search_call",
        "tool_search_output",
    }
)
_CALLS = ("function_call", "custom_tool_call")
_OUTPUTS = ("function_call_output", "custom_tool_call_output")
INPUT_ITEM_TYPES = (
    frozenset({"message", "item_reference", *_CALLS, *_OUTPUTS}) | _NOT_TRANSLATED_ITEMS
)
"""Every input item type the Responses API defines."""
CUSTOM_INPUT = "input"
"""The one parameter of the function that stands for a custom tool."""


@dataclass(frozen=True, slots=True)
class ToolOrigin:
    """Where a function offered to the upstream came from in the client's ``tools``."""

    name: str
    namespace: str | None = None
    custom: bool = False


@dataclass(frozen=True, slots=True)
class ResponsesTemplate:
    """What the reply to a translated request needs from it."""

    request: dict[str, Any]
    """The client's request, whose fields a ``response`` object repeats."""
    tools: dict[str, ToolOrigin]
    """Each function name the upstream was offered, and the client tool it stands for."""
    dropped_tools: tuple[str, ...] = ()
    """The types of the hosted tools left out, in order, once each."""

    def origin(self, name: str) -> ToolOrigin:
        """The client's tool behind a function the upstream called (itself if unknown)."""
        return self.tools.get(name) or ToolOrigin(name)


@blames(request_error)
def responses_request_to_chat(
    body: dict[str, Any], *, reasoning_model: bool = True
) -> tuple[dict[str, Any], ResponsesTemplate]:
    """A Responses API request as a Chat Completions request, and what its reply needs.

    ``reasoning_model`` says whether the model behind it reasons (Claude does, and so do
    OpenAI's o-series and gpt-5): it gets ``max_completion_tokens`` and
    ``reasoning_effort``; another gets ``max_tokens`` and no effort, which it would refuse.
    """
    for field in _STATEFUL:
        if body.get(field) is not None:
            raise validation_error(
                f"'{field}' needs state the gateway does not keep; send the whole conversation in 'input'",
                param=field,
            )
    if body.get("background"):
        raise validation_error("background responses are not supported", param="background")
    tools, origins, dropped = _chat_tools(body.get("tools") or [])
    flat_names = {(origin.namespace, origin.name): flat for flat, origin in origins.items()}
    out: dict[str, Any] = {
        "model": body.get("model"),
        "messages": _chat_messages(body, flat_names),
    }
    if body.get("max_output_tokens") is not None:
        limit = "max_completion_tokens" if reasoning_model else "max_tokens"
        out[limit] = body["max_output_tokens"]
    for name in ("temperature", "top_p"):
        if body.get(name) is not None:
            out[name] = body[name]
    if tools:
        out["tools"] = tools
        if body.get("tool_choice") is not None:
            out["tool_choice"] = _chat_tool_choice(body["tool_choice"], origins)
        if body.get("parallel_tool_calls") is not None:
            out["parallel_tool_calls"] = body["parallel_tool_calls"]
    text = body.get("text") or {}
    response_format = _response_format(text.get("format"))
    if response_format is not None:
        out["response_format"] = response_format
    if text.get("verbosity") is not None:
        out["verbosity"] = text["verbosity"]
    effort = (body.get("reasoning") or {}).get("effort")
    if effort is not None and reasoning_model:
        out["reasoning_effort"] = effort
    user = body.get("safety_identifier") or body.get("user")
    if user:
        out["user"] = user
    if body.get("stream"):
        out["stream"] = True
        out["stream_options"] = {"include_usage": True}
    return out, ResponsesTemplate(body, origins, dropped)


# Tools


def _chat_tools(
    tools: list[dict[str, Any]],
) -> tuple[list[dict[str, Any]], dict[str, ToolOrigin], tuple[str, ...]]:
    offered: list[tuple[ToolOrigin, dict[str, Any]]] = []
    dropped: list[str] = []
    for tool in tools:
        kind = tool["type"]
        if kind in ("function", "custom"):
            offered.append((_origin(tool, None), tool))
        elif kind == "namespace":
            offered.extend((_origin(inner, tool["name"]), inner) for inner in tool["tools"])
        elif kind not in dropped:
            dropped.append(kind)
    taken = Counter(origin.name for origin, _ in offered)
    chat_tools: list[dict[str, Any]] = []
    origins: dict[str, ToolOrigin] = {}
    for origin, tool in offered:
        flat = origin.name
        if origin.namespace is not None and taken[flat] > 1:
            flat = f"{origin.namespace}__{flat}"
        origins[flat] = origin
        chat_tools.append(_chat_function(flat, tool, custom=origin.custom))
    return chat_tools, origins, tuple(dropped)


def _origin(tool: dict[str, Any], namespace: str | None) -> ToolOrigin:
    kind = tool["type"]
    if kind not in ("function", "custom"):
        raise validation_error(
            f"a namespace can hold function and custom tools, not {kind!r}", param="tools"
        )
    return ToolOrigin(tool["name"], namespace, custom=kind == "custom")


def _chat_function(name: str, tool: dict[str, Any], *, custom: bool) -> dict[str, Any]:
    function: dict[str, Any] = {"name": name}
    if tool.get("description"):
        function["description"] = tool["description"]
    if custom:
        function["parameters"] = {
            "type": "object",
            "properties": {
                CUSTOM_INPUT: {"type": "string", "description": _custom_input_help(tool)}
            },
            "required": [CUSTOM_INPUT],
            "additionalProperties": False,
        }
    else:
        function["parameters"] = tool.get("parameters") or {"type": "object", "properties": {}}
        if tool.get("strict") is not None:
            function["strict"] = tool["strict"]
    return {"type": "function", "function": function}


def _custom_input_help(tool: dict[str, Any]) -> str:
    form = tool.get("format") or {}
    if form.get("type") == "grammar":
        return (
            f"The tool's input: text in this {form.get('syntax', '')} grammar:\n"
            f"{form.get('definition', '')}"
        )
    return "The tool's input, as free-form text."


def _chat_tool_choice(choice: Any, origins: dict[str, ToolOrigin]) -> Any:
    if choice in ("auto", "none", "required"):
        return choice
    kind = choice["type"]
    if kind == "allowed_tools":
        return choice.get("mode") or "auto"
    if kind in ("function", "custom"):
        for flat, origin in origins.items():
            if origin.name == choice["name"]:
                return {"type": "function", "function": {"name": flat}}
        raise validation_error(
            f"tool_choice names {choice['name']!r}, which is not in 'tools'", param="tool_choice"
        )
    raise validation_error(
        f"tool_choice {kind!r} names a hosted tool, which this model's upstream cannot run",
        param="tool_choice",
    )


def _response_format(form: Any) -> dict[str, Any] | None:
    if not form or form.get("type") == "text":
        return None
    if form["type"] == "json_object":
        return {"type": "json_object"}
    if form["type"] != "json_schema":
        raise validation_error(f"text.format {form['type']!r} is not supported", param="text")
    schema = {name: form[name] for name in ("name", "description", "strict") if name in form}
    schema["schema"] = form.get("schema") or {}
    return {"type": "json_schema", "json_schema": schema}


# Conversation


def _chat_messages(
    body: dict[str, Any], flat_names: dict[tuple[str | None, str], str]
) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    instructions = body.get("instructions")
    if instructions:
        messages.append({"role": "system", "content": instructions})
    items = body["input"]
    if isinstance(items, str):
        messages.append({"role": "user", "content": items})
        return messages
    # Signed thinking from a reasoning item, for the assistant message that follows it.
    thinking: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        kind = item.get("type", "message")
        if kind == "message":
            messages.append(_chat_message(item))
        elif kind in _CALLS:
            _add_tool_call(messages, item, flat_names)
        elif kind == "reasoning":
            thinking += unseal(item.get("encrypted_content"))
            continue
        elif kind in _OUTPUTS:
            messages.extend(_tool_result(item))
        elif kind == "item_reference":
            raise validation_error(
                f"'input[{index}]' is an item_reference, which needs state the gateway does not keep; send the item itself",
                param=f"input[{index}]",
            )
        elif kind not in _NOT_TRANSLATED_ITEMS:
            raise validation_error(
                f"input items of type {kind!r} are not supported", param=f"input[{index}].type"
            )
        if thinking:
            # It belongs to the item right after it, when that is the model's turn.
            if messages and messages[-1]["role"] == "assistant":
                messages[-1]["thinking_blocks"] = thinking
                messages[-1]["reasoning_content"] = "".join(
                    block.get("thinking", "") for block in thinking
                )
            thinking = []
    return messages


def _chat_message(item: dict[str, Any]) -> dict[str, Any]:
    role = item["role"]
    content = item["content"]
    if role in ("system", "developer"):
        return {"role": "system", "content": _text_content(content)}
    if role == "user":
        if isinstance(content, str):
            return {"role": "user", "content": content}
        return {"role": "user", "content": [_user_part(part) for part in content]}
    if role != "assistant":
        raise validation_error(f"unsupported message role {role!r}", param="input")
    if isinstance(content, str):
        return {"role": "assistant", "content": content}
    message: dict[str, Any] = {
        "role": "assistant",
        "content": "".join(
            part["text"] for part in content if part["type"] in ("output_text", "input_text")
        ),
    }
    refusals = [part["refusal"] for part in content if part["type"] == "refusal"]
    if refusals:
        message["refusal"] = "".join(refusals)
    return message


def _text_content(content: Any) -> Any:
    if isinstance(content, str):
        return content
    return [{"type": "text", "text": _part_text(part)} for part in content]


def _part_text(part: dict[str, Any]) -> str:
    if part["type"] not in ("input_text", "output_text"):
        raise validation_error(f"content of type {part['type']!r} is not allowed here")
    text: str = part["text"]
    return text


def _user_part(part: dict[str, Any]) -> dict[str, Any]:
    kind = part["type"]
    if kind in ("input_text", "output_text"):
        return {"type": "text", "text": part["text"]}
    if kind == "input_image":
        if not part.get("image_url"):
            raise validation_error("input_image parts need an image_url here (not a file_id)")
        image: dict[str, Any] = {"url": part["image_url"]}
        if part.get("detail"):
            image["detail"] = part["detail"]
        return {"type": "image_url", "image_url": image}
    if kind == "input_file":
        file = {name: part[name] for name in ("file_data", "file_id", "filename") if part.get(name)}
        return {"type": "file", "file": file}
    raise validation_error(f"content of type {kind!r} is not supported", param="input")


def _add_tool_call(
    messages: list[dict[str, Any]],
    item: dict[str, Any],
    flat_names: dict[tuple[str | None, str], str],
) -> None:
    """Join the call to the assistant message just before it, as Chat Completions has it."""
    name = item["name"]
    flat = flat_names.get((item.get("namespace"), name), name)
    if item["type"] == "custom_tool_call":
        arguments = json_text({CUSTOM_INPUT: item["input"]})
    else:
        arguments = item["arguments"]
    call = {
        "id": item["call_id"],
        "type": "function",
        "function": {"name": flat, "arguments": arguments},
    }
    last = messages[-1] if messages else None
    if last is None or last["role"] != "assistant":
        last = {"role": "assistant", "content": None}
        messages.append(last)
    last.setdefault("tool_calls", []).append(call)


def _tool_result(item: dict[str, Any]) -> list[dict[str, Any]]:
    """A tool's output as a ``tool`` message; images it returned follow as a user message."""
    output = item["output"]
    if isinstance(output, str):
        return [{"role": "tool", "tool_call_id": item["call_id"], "content": output}]
    texts = [
        {"type": "text", "text": part["text"]} for part in output if part["type"] == "input_text"
    ]
    others = [_user_part(part) for part in output if part["type"] != "input_text"]
    out = [{"role": "tool", "tool_call_id": item["call_id"], "content": texts or ""}]
    if others:
        out.append({"role": "user", "content": others})
    return out
