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
* **A tool call** (``+tool``) calls the first tool offered, with arguments made up from
  its schema; its tokens are the pieces of the arguments' JSON, four characters each.
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


@dataclass(frozen=True, slots=True)
class ToolCall:
    id: str
    name: str
    arguments: str
    """The arguments as JSON text."""

    @property
    def input(self) -> Any:
        return orjson.loads(self.arguments)


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
    if directives.tool:
        call = _tool_call(api, body, request_id)
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
        if part.get("type") == "text" and isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif part.get("type") == "tool_result":
            _collect_text(part.get("content"), texts)


def _max_tokens(api: Api, body: dict[str, Any]) -> int | None:
    names: tuple[str, ...]
    if api == "anthropic":
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


def _tool_call(api: Api, body: dict[str, Any], request_id: str) -> ToolCall:
    tools = body.get("tools")
    if not isinstance(tools, list) or not tools or not isinstance(tools[0], dict):
        raise validation_error(
            "the +tool directive needs at least one tool in 'tools'", param="tools"
        )
    tool = tools[0]
    if api == "openai":
        function = tool.get("function")
        tool = function if isinstance(function, dict) else {}
        schema = tool.get("parameters")
        prefix = "call_"
    else:
        schema = tool.get("input_schema")
        prefix = "toolu_"
    name = tool.get("name")
    if not isinstance(name, str) or not name:
        raise validation_error("the first tool in 'tools' has no name", param="tools")
    # A tool's input is always an object, even where its schema leaves the type out.
    arguments = example_value(
        {**schema, "type": "object"} if isinstance(schema, dict) else {"type": "object"}
    )
    return ToolCall(prefix + request_id, name, orjson.dumps(arguments).decode())


def _split(text: str, size: int) -> tuple[str, ...]:
    return tuple(text[i : i + size] for i in range(0, len(text), size))
