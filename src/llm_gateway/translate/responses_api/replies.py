"""Replies: a Chat Completions reply -> a Responses API ``response`` object.

One chat choice becomes a list of output items, in the order a model produces them:
``reasoning`` (from the ``reasoning_content`` that open-weight servers and the Anthropic
translation report, its signed ``thinking_blocks`` sealed in ``encrypted_content``; see
:mod:`.thinking`), a ``message`` with its ``output_text`` (and ``refusal``), then a
``function_call`` per tool call, or a ``custom_tool_call`` with its namespace restored
from the :class:`~.requests.ResponsesTemplate`. ``finish_reason: length`` makes the
response ``incomplete``; usage details carry over under their Responses names.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import orjson

from llm_gateway.translate.malformed import blames, upstream_error
from llm_gateway.translate.responses_api.objects import (
    INCOMPLETE_REASONS,
    call_item,
    message_item,
    output_text,
    reasoning_item,
    response_object,
    usage_object,
)
from llm_gateway.translate.responses_api.requests import CUSTOM_INPUT, ResponsesTemplate
from llm_gateway.translate.responses_api.thinking import seal

_CHAT_ID_PREFIX = "chatcmpl-"


@blames(upstream_error)
def chat_reply_to_response(
    body: dict[str, Any], template: ResponsesTemplate, *, clock: Callable[[], float] = time.time
) -> dict[str, Any]:
    """A ``chat.completion`` (its first choice) as a ``response`` object."""
    if not body["choices"]:
        raise upstream_error("no choices")
    choice = body["choices"][0]
    message = choice["message"]
    base = base_id(body.get("id") or "")
    output: list[dict[str, Any]] = []
    blocks = message.get("thinking_blocks")
    if message.get("reasoning_content") or blocks:
        sealed = seal(blocks) if blocks else None
        output.append(reasoning_item("rs_" + base, message.get("reasoning_content") or "", sealed))
    parts = []
    refusal = message.get("refusal")
    # A refusal translated from Anthropic repeats its text as content: say it once.
    if message.get("content") and message["content"] != refusal:
        parts.append(output_text(message["content"]))
    if refusal:
        parts.append({"type": "refusal", "refusal": refusal})
    if parts:
        output.append(message_item("msg_" + base, parts, "completed"))
    for index, call in enumerate(message.get("tool_calls") or ()):
        function = call["function"]
        origin = template.origin(function["name"])
        arguments = function.get("arguments") or ""
        output.append(
            call_item(
                f"fc_{base}_{index}",
                call["id"],
                origin.name,
                custom_input(arguments) if origin.custom else arguments,
                "completed",
                custom=origin.custom,
                namespace=origin.namespace,
            )
        )
    incomplete = INCOMPLETE_REASONS.get(choice.get("finish_reason") or "stop")
    return response_object(
        template.request,
        response_id="resp_" + base,
        model=body.get("model") or "",
        created_at=body.get("created") or int(clock()),
        status="completed" if incomplete is None else "incomplete",
        output=output,
        usage=responses_usage(body.get("usage") or {}),
        incomplete_reason=incomplete,
    )


def base_id(chat_id: str) -> str:
    """``chatcmpl-X`` -> ``X``, which the response (``resp_X``) and its items share."""
    return chat_id.removeprefix(_CHAT_ID_PREFIX)


def responses_usage(usage: dict[str, Any]) -> dict[str, Any]:
    """Chat usage, its details included, under the Responses API's names."""
    prompt_details = usage.get("prompt_tokens_details") or {}
    completion_details = usage.get("completion_tokens_details") or {}
    return usage_object(
        usage.get("prompt_tokens") or 0,
        usage.get("completion_tokens") or 0,
        cached_tokens=prompt_details.get("cached_tokens") or 0,
        reasoning_tokens=completion_details.get("reasoning_tokens") or 0,
    )


def custom_input(arguments: str) -> str:
    """A custom tool's input from the arguments of the function that stood for it.

    Arguments cut short (the reply hit its token limit) are passed on as they are.
    """
    try:
        parsed = orjson.loads(arguments)
    except orjson.JSONDecodeError:
        return arguments
    value = parsed.get(CUSTOM_INPUT) if isinstance(parsed, dict) else None
    return value if isinstance(value, str) else arguments
