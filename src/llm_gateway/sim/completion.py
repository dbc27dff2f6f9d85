"""What the simulated model says, and how many tokens that costs.

Everything here is a pure function of the request, so tests can predict it exactly:

* **Prompt text** is every piece of text the model would read: the system prompt, and each
  message's text (a string ``content``, the ``text`` of text parts, and the text of tool
  results). Images, tool definitions and tool-call arguments are not counted. The same
  conversation written in either API shape has the same prompt text.
* **Input tokens** are one per four characters of prompt text, rounded up, and at least 1.
* **Output** is a run of words chosen from a fixed vocabulary, seeded by the prompt text;
  each word (with its leading space) is one token. There are ``+tokens=N`` of them, or
  16 to 64 chosen by the seed. ``max_tokens`` cuts the run short (stop reason
  ``length``); a stop sequence found in the text ends it just before the match (stop
  reason ``stop_sequence``; a token cut by the match still counts).
* **A tool call** calls a tool with arguments made up from its schema; its tokens are the
  pieces of the arguments' JSON (a custom tool's free-form input), four characters each.
  ``tool_choice`` decides first, as the real APIs promise: ``none`` never calls a tool;
  ``required`` (Anthropic ``any``) calls the first tool offered, and a named tool is
  called by name. Otherwise ``+tool`` calls the first tool, except in the turn that
  follows a tool result, which is answered in words, so an agent's loop ends.
"""

from __future__ import annotations

import hashlib
import math
import random
import zlib
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from llm_gateway.apis import Api
from llm_gateway.errors import validation_error
from llm_gateway.sim.directives import Directives
from llm_gateway.sim.schema import example_value

StopReason = Literal["end", "length", "stop_sequence", "tool"]

CHARS_PER_TOKEN = 4
MIN_DEFAULT_TOKENS = 16
MAX_DEFAULT_TOKENS = 64

_WORDS = (
    "the quick brown fox jumps over a lazy dog while seven wizards quietly "
    "build bright lanterns from amber glass and every river sings softly "
    "under silver clouds that drift across distant hills toward an open sea "
    "where patient sailors mend old nets beside warm fires at dusk"
)
_VOCABULARY = tuple(_WORDS.split())

_TEXT_PARTS = frozenset({"text", "input_text", "output_text"})
_TOOL_OUTPUTS = frozenset({"function_call_output", "custom_tool_call_output"})


@dataclass(frozen=True, slots=True)
class ToolCall:
    id: str
    name: str
    arguments: str
    """The arguments as JSON text; for a custom (free-form) tool, its input text."""
    namespace: str | None = None
    """The Responses API namespace the tool was offered in."""
    custom: bool = False
    """A Responses API custom tool, whose input is text rather than JSON."""

    @property
    def input(self) -> Any:
        return orjson.loads(self.arguments)


@dataclass(frozen=True, slots=True)
class _Tool:
    name: str
    schema: Any
    namespace: str | None = None
    custom: bool = False


@dataclass(frozen=True, slots=True)
class Completion:
    pieces: tuple[str, ...]
    """The output, one token per piece: words, or the tool call's argument JSON."""
    stop_reason: StopReason
    input_tokens: int
    request_id: str
    """A hex id derived from the whole request, for the reply's ``id`` fields."""
    stop_sequence: str | None = None
    tool_call: ToolCall | None = None

    @property
    def text(self) -> str:
        return "".join(self.pieces)

    @property
    def output_tokens(self) -> int:
        return len(self.pieces)


def complete(api: Api, body: dict[str, Any], directives: Directives) -> Completion:
    """The simulated model's answer to ``body`` (in shape ``api``).

    Raises a ``validation`` error for a request the real API would refuse.
    """
    prompt = prompt_text(api, body)
    seed = zlib.crc32(prompt.encode())
    canonical = orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
    request_id = hashlib.blake2b(canonical, digest_size=12).hexdigest()
    input_tokens = count_tokens(prompt)
    call = _tool_call(api, body, request_id, directives)
    if call is not None:
        pieces = _split(call.arguments, CHARS_PER_TOKEN)
        return Completion(pieces, "tool", input_tokens, request_id, tool_call=call)
    wanted = directives.tokens
    if wanted is None:
        wanted = MIN_DEFAULT_TOKENS + seed % (MAX_DEFAULT_TOKENS - MIN_DEFAULT_TOKENS + 1)
    limit = _max_tokens(api, body)
    count = wanted if limit is None else min(wanted, limit)
    pieces, stop_sequence = _cut_at_stop_sequence(_words(seed, count), _stop_sequences(api, body))
    stop_reason: StopReason = "length" if count < wanted else "end"
    if stop_sequence is not None:
        stop_reason = "stop_sequence"
    return Completion(pieces, stop_reason, input_tokens, request_id, stop_sequence=stop_sequence)


def count_tokens(text: str) -> int:
    """The simulator's token estimate for ``text``: a token per four characters, at least 1."""
    return max(1, math.ceil(len(text) / CHARS_PER_TOKEN))


def prompt_text(api: Api, body: dict[str, Any]) -> str:
    """Every piece of text the model reads in ``body``, in order, joined without separators."""
    if api == "responses":
        return _responses_prompt_text(body)
    messages = body.get("messages")
    if not isinstance(messages, list):
        raise validation_error("'messages' must be a list of messages", param="messages")
    texts: list[str] = []
    if api == "anthropic":
        _collect_text(body.get("system"), texts)
    for message in messages:
        if not isinstance(message, dict):
            raise validation_error("each message must be an object", param="messages")
        _collect_text(message.get("content"), texts)
    return "".join(texts)


def _responses_prompt_text(body: dict[str, Any]) -> str:
    """The instructions, then each input item's text: messages and tool outputs."""
    texts: list[str] = []
    _collect_text(body.get("instructions"), texts)
    items = body.get("input")
    if isinstance(items, str):
        return "".join([*texts, items])
    if not isinstance(items, list):
        raise validation_error("'input' must be a string or a list of items", param="input")
    for item in items:
        if not isinstance(item, dict):
            raise validation_error("each input item must be an object", param="input")
        kind = item.get("type", "message")
        if kind == "message":
            _collect_text(item.get("content"), texts)
        elif kind in _TOOL_OUTPUTS:
            _collect_text(item.get("output"), texts)
    return "".join(texts)


def _collect_text(content: Any, texts: list[str]) -> None:
    """Append the text in a ``content`` value: a string, or a list of parts."""
    if isinstance(content, str):
        texts.append(content)
        return
    if not isinstance(content, list):
        return
    for part in content:
        if not isinstance(part, dict):
            continue
        if part.get("type") in _TEXT_PARTS and isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif part.get("type") == "tool_result":
            _collect_text(part.get("content"), texts)


def _max_tokens(api: Api, body: dict[str, Any]) -> int | None:
    names: tuple[str, ...]
    if api == "responses":
        names = ("max_output_tokens",)
    elif api == "anthropic":
        names = ("max_tokens",)
        if "max_tokens" not in body:
            raise validation_error("max_tokens: Field required", param="max_tokens")
    else:
        names = ("max_completion_tokens", "max_tokens")
    for name in names:
        value = body.get(name)
        if value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise validation_error(f"'{name}' must be a positive integer", param=name)
        return value
    return None


def _stop_sequences(api: Api, body: dict[str, Any]) -> list[str]:
    if api == "responses":
        return []
    name = "stop_sequences" if api == "anthropic" else "stop"
    value = body.get(name)
    if value is None:
        return []
    if isinstance(value, str) and api == "openai":
        return [value]
    if isinstance(value, list) and all(isinstance(s, str) for s in value):
        return [s for s in value if s]
    raise validation_error(f"'{name}' must be a list of strings", param=name)


def _words(seed: int, count: int) -> tuple[str, ...]:
    chooser = random.Random(seed)
    words = [chooser.choice(_VOCABULARY) for _ in range(count)]
    return tuple(word if i == 0 else " " + word for i, word in enumerate(words))


def _cut_at_stop_sequence(
    pieces: tuple[str, ...], stop_sequences: list[str]
) -> tuple[tuple[str, ...], str | None]:
    """End the output just before the earliest stop sequence in it, if any."""
    text = "".join(pieces)
    found = [(text.find(s), i, s) for i, s in enumerate(stop_sequences) if s in text]
    if not found:
        return pieces, None
    cut, _, sequence = min(found)
    kept: list[str] = []
    start = 0
    for piece in pieces:
        if start >= cut:
            break
        kept.append(piece[: cut - start])
        start += len(piece)
    return tuple(kept), sequence


def _tool_call(
    api: Api, body: dict[str, Any], request_id: str, directives: Directives
) -> ToolCall | None:
    """The call this reply makes, if any: ``tool_choice`` first, then ``+tool``."""
    mode, wanted = _tool_choice(api, body)
    if mode == "none" or (mode == "auto" and not directives.tool):
        return None
    tools = _offered_tools(api, body)
    if mode == "auto" and _answers_tool_result(api, body):
        return None
    if not tools:
        raise validation_error(
            "a tool call needs at least one tool in 'tools' (+tool or tool_choice asks for one)",
            param="tools",
        )
    tool = tools[0]
    if wanted is not None:
        named = [tool for tool in tools if tool.name == wanted]
        if not named:
            raise validation_error(
                f"tool_choice names the tool {wanted!r}, which is not in 'tools'",
                param="tool_choice",
            )
        tool = named[0]
    call_id = ("toolu_" if api == "anthropic" else "call_") + request_id
    if tool.custom:
        return ToolCall(call_id, tool.name, example_value(None), tool.namespace, custom=True)
    # A tool's input is always an object, even where its schema leaves the type out.
    schema = tool.schema if isinstance(tool.schema, dict) else {}
    arguments = example_value({**schema, "type": "object"})
    return ToolCall(call_id, tool.name, orjson.dumps(arguments).decode(), tool.namespace)


def _tool_choice(api: Api, body: dict[str, Any]) -> tuple[str, str | None]:
    """``tool_choice`` in any API's spelling, as ``(mode, tool name)``.

    The mode is ``none``, ``auto`` or ``any`` (some tool must be called); a name means
    that tool must be.
    """
    choice = body.get("tool_choice")
    if choice is None:
        return "auto", None
    if isinstance(choice, str):
        return ("any" if choice == "required" else choice), None
    if not isinstance(choice, dict):
        raise validation_error("'tool_choice' must be a string or an object", param="tool_choice")
    kind = choice.get("type")
    if kind == "allowed_tools":
        return ("any" if choice.get("mode") == "required" else "auto"), None
    if api == "anthropic":
        return ("any", choice.get("name")) if kind == "tool" else (str(kind), None)
    if kind in ("function", "custom"):
        # Chat Completions nests the name; the Responses API does not.
        nested = choice.get(kind)
        return "any", nested.get("name") if isinstance(nested, dict) else choice.get("name")
    # A hosted tool (web_search...) is one the simulator cannot run: it answers in words.
    return "none", None


def _offered_tools(api: Api, body: dict[str, Any]) -> list[_Tool]:
    tools = body.get("tools")
    if not isinstance(tools, list):
        return []
    offered: list[_Tool] = []
    for tool in tools:
        if not isinstance(tool, dict):
            continue
        if api == "anthropic":
            offered.append(_Tool(_name(tool.get("name")), tool.get("input_schema")))
        elif api == "openai":
            function = tool.get("function")
            if isinstance(function, dict):
                offered.append(_Tool(_name(function.get("name")), function.get("parameters")))
        else:
            offered.extend(_responses_tools(tool, None))
    return offered


def _name(name: Any) -> str:
    if not isinstance(name, str) or not name:
        raise validation_error("every tool in 'tools' needs a name", param="tools")
    return name


def _responses_tools(tool: dict[str, Any], namespace: str | None) -> list[_Tool]:
    kind = tool.get("type")
    if kind == "function":
        return [_Tool(_name(tool.get("name")), tool.get("parameters"), namespace)]
    if kind == "custom":
        return [_Tool(_name(tool.get("name")), None, namespace, custom=True)]
    nested = tool.get("tools")
    if kind == "namespace" and isinstance(nested, list):
        name = tool.get("name")
        return [
            found
            for inner in nested
            if isinstance(inner, dict)
            for found in _responses_tools(inner, name if isinstance(name, str) else None)
        ]
    return []


def _answers_tool_result(api: Api, body: dict[str, Any]) -> bool:
    """Whether the conversation ends with a tool's result, which the model now reads."""
    if api == "responses":
        items = body.get("input")
        last = items[-1] if isinstance(items, list) and items else None
        return isinstance(last, dict) and last.get("type") in _TOOL_OUTPUTS
    messages = body.get("messages")
    last = messages[-1] if isinstance(messages, list) and messages else None
    if not isinstance(last, dict):
        return False
    if api == "openai":
        return last.get("role") == "tool"
    content = last.get("content")
    return isinstance(content, list) and any(
        isinstance(block, dict) and block.get("type") == "tool_result" for block in content
    )


def _split(text: str, size: int) -> tuple[str, ...]:
    return tuple(text[i : i + size] for i in range(0, len(text), size))
