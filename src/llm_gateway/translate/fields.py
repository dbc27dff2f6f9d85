"""The pieces both APIs share under different names, spelled once for every translator.

Ids, stop reasons, token counts and tool calls appear in requests, whole responses and
streams alike. Helpers that can meet content they cannot translate raise ``ValueError``;
the public translators turn that into an error that blames the client or the upstream.
"""

from __future__ import annotations

from typing import Any

import orjson

from llm_gateway.translate.reasoning import is_thinking, reasoning_tokens

_OPENAI_ID_PREFIX = "chatcmpl-"
_ANTHROPIC_ID_PREFIX = "msg_"

_FINISH_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}
_STOP_REASONS = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "content_filter": "refusal",
}


def openai_id(anthropic_id: str) -> str:
    """``msg_X`` becomes ``chatcmpl-X``: the same reply stays recognisable in both logs."""
    return _OPENAI_ID_PREFIX + anthropic_id.removeprefix(_ANTHROPIC_ID_PREFIX)


def anthropic_id(openai_id: str) -> str:
    """``chatcmpl-X`` becomes ``msg_X``."""
    return _ANTHROPIC_ID_PREFIX + openai_id.removeprefix(_OPENAI_ID_PREFIX)


def openai_finish_reason(stop_reason: str | None) -> str:
    """Anthropic ``stop_reason`` -> OpenAI ``finish_reason`` (unknown reasons read as ``stop``)."""
    return _FINISH_REASONS.get(stop_reason or "end_turn", "stop")


def anthropic_stop(choice: dict[str, Any], *, called_tools: bool) -> tuple[str, str | None]:
    """An OpenAI choice's ``finish_reason`` -> Anthropic ``(stop_reason, stop_sequence)``.

    OpenAI does not say which stop sequence ended the text, but vLLM and other compatible
    servers put the matched string in a non-standard ``stop_reason`` field; when it is
    there the Anthropic client learns it too. Some compatible servers also end a reply
    that calls tools with ``stop``, and Anthropic clients only run tools on ``tool_use``.
    """
    finish_reason = choice.get("finish_reason") or "stop"
    matched = choice.get("stop_reason")
    if finish_reason == "stop" and called_tools:
        return "tool_use", None
    if finish_reason == "stop" and isinstance(matched, str):
        return "stop_sequence", matched
    return _STOP_REASONS.get(finish_reason, "end_turn"), None


def anthropic_input_tokens(usage: dict[str, Any]) -> int:
    """Every prompt token Anthropic counted, cache reads and writes included.

    Anthropic reports cached prompt tokens apart from ``input_tokens``; OpenAI's
    ``prompt_tokens`` (and the gateway's metrics) count the whole prompt.
    """
    return (
        token_count(usage.get("input_tokens"))
        + token_count(usage.get("cache_creation_input_tokens"))
        + token_count(usage.get("cache_read_input_tokens"))
    )


def token_count(value: object) -> int:
    """A count from an upstream's usage figures: a whole number, else (a string, ``null``,
    a ``bool``) 0, so that odd usage never fails an answer that is otherwise fine."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def anthropic_message_head(message_id: str, model: str, input_tokens: int) -> dict[str, Any]:
    """The message as Anthropic's ``message_start`` announces it: no content, no stop yet."""
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": input_tokens, "output_tokens": 0},
    }


def openai_usage(usage: dict[str, Any], reasoning_chars: int) -> dict[str, Any]:
    """Anthropic ``usage`` as OpenAI's, with the cache and reasoning details.

    ``prompt_tokens`` is the whole prompt (uncached, cache writes and cache reads), of
    which ``cached_tokens`` were read from the cache. ``reasoning_chars`` is how much
    thinking text the reply had, for the ``reasoning_tokens`` estimate.
    """
    prompt = anthropic_input_tokens(usage)
    output = usage.get("output_tokens") or 0
    return {
        "prompt_tokens": prompt,
        "completion_tokens": output,
        "total_tokens": prompt + output,
        "prompt_tokens_details": {"cached_tokens": usage.get("cache_read_input_tokens") or 0},
        "completion_tokens_details": {
            "reasoning_tokens": reasoning_tokens(reasoning_chars, output)
        },
    }


def anthropic_usage(usage: dict[str, Any]) -> dict[str, int]:
    """OpenAI ``usage`` as Anthropic's: ``input_tokens`` leaves out the cache reads.

    OpenAI reports no cache writes (its caching is automatic and free to write).
    """
    cached = (usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0
    return {
        "input_tokens": (usage.get("prompt_tokens") or 0) - cached,
        "output_tokens": usage.get("completion_tokens") or 0,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": cached,
    }


def tool_arguments(arguments: str) -> dict[str, Any]:
    """An OpenAI tool call's ``arguments`` JSON string as the object Anthropic wants.

    Raises :class:`ValueError` when it is not a JSON object; the caller knows whose fault
    that is (the client's history or the upstream's reply).
    """
    if not arguments.strip():
        return {}
    try:
        parsed = orjson.loads(arguments)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"tool call arguments are not valid JSON: {exc}") from None
    if not isinstance(parsed, dict):
        raise ValueError("tool call arguments must be a JSON object")
    return parsed


def json_text(value: Any) -> str:
    return orjson.dumps(value).decode()


def openai_tool_call(tool_use: dict[str, Any]) -> dict[str, Any]:
    """An Anthropic ``tool_use`` block as an OpenAI tool call."""
    return {
        "id": tool_use["id"],
        "type": "function",
        "function": {"name": tool_use["name"], "arguments": json_text(tool_use.get("input") or {})},
    }


def anthropic_tool_use(tool_call: dict[str, Any], *, truncated: bool = False) -> dict[str, Any]:
    """An OpenAI tool call as an Anthropic ``tool_use`` block.

    ``truncated`` says the reply hit its token limit, so the arguments may stop halfway:
    they are closed as far as they go (see :func:`partial_json_object`) rather than
    refused, and the client, told ``max_tokens``, sees what the model had written.
    """
    function = tool_call["function"]
    arguments = function.get("arguments") or ""
    try:
        tool_input = tool_arguments(arguments)
    except ValueError:
        if not truncated:
            raise
        tool_input = partial_json_object(arguments)
    return {
        "type": "tool_use",
        "id": tool_call["id"],
        "name": function["name"],
        "input": tool_input,
    }


def partial_json_object(text: str) -> dict[str, Any]:
    """The most of a JSON object cut off mid-way that still parses (``{}`` at worst).

    An open string is closed where it stops (a file's content cut short keeps what was
    written), then open arrays and objects; failing that, the text is cut back to the
    last comma or opening bracket. One pass over the text and at most three parses.
    """
    closers: list[str] = []
    cuts: list[tuple[int, str]] = []
    in_string = escaped = False
    for position, char in enumerate(text):
        if escaped:
            escaped = False
        elif in_string:
            escaped = char == "\\"
            in_string = char != '"'
        elif char == '"':
            in_string = True
        elif char in "{[":
            closers.append("}" if char == "{" else "]")
            cuts.append((position + 1, "".join(reversed(closers))))
        elif char in "}]" and closers:
            closers.pop()
        elif char == ",":
            cuts.append((position, "".join(reversed(closers))))
    whole = (text[:-1] if escaped else text) + ('"' if in_string else "")
    candidates = [whole + "".join(reversed(closers))]
    candidates.extend(text[:cut] + close for cut, close in reversed(cuts[-2:]))
    for candidate in candidates:
        try:
            parsed = orjson.loads(candidate)
        except orjson.JSONDecodeError:
            continue
        if isinstance(parsed, dict):
            return parsed
    return {}


def openai_assistant_message(blocks: list[dict[str, Any]]) -> dict[str, Any]:
    """Anthropic assistant content blocks as an OpenAI assistant message.

    Text blocks are concatenated in order, exactly what a streaming client would have
    seen. OpenAI writes ``null`` content beside tool calls and a string otherwise.
    """
    texts: list[str] = []
    calls: list[dict[str, Any]] = []
    for block in blocks:
        kind = block["type"]
        if kind == "text":
            texts.append(block["text"])
        elif kind == "tool_use":
            calls.append(openai_tool_call(block))
        elif not is_thinking(block):
            raise ValueError(f"{kind} content blocks have no OpenAI equivalent")
    # Thinking is not text: the callers add it in the fields their direction needs.
    text = "".join(texts)
    message: dict[str, Any] = {"role": "assistant", "content": text if text or not calls else None}
    if calls:
        message["tool_calls"] = calls
    return message
