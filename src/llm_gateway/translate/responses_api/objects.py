"""The objects of the OpenAI Responses API, built once for everyone who answers in it.

The simulator (answering natively) and the Chat Completions translators both produce
``response`` objects, output items and stream events; they build them here so that the
two can never disagree on a field. A ``response`` object repeats much of its request
(``tools``, ``tool_choice``, ``instructions``...), so :func:`response_object` takes the
request body and copies those fields the way the real API does.
"""

from __future__ import annotations

from typing import Any

import orjson

from llm_gateway.errors import GatewayError
from llm_gateway.sse import encode_event
from llm_gateway.translate.errors import anthropic_error_to_openai, upstream_payload

# What a response object repeats from its request, and the API's value when the client
# left the field out.
_ECHOED: tuple[tuple[str, Any], ...] = (
    ("instructions", None),
    ("max_output_tokens", None),
    ("max_tool_calls", None),
    ("metadata", {}),
    ("parallel_tool_calls", True),
    ("prompt_cache_key", None),
    ("reasoning", {"effort": None, "summary": None}),
    ("safety_identifier", None),
    ("service_tier", "auto"),
    ("store", True),
    ("temperature", 1.0),
    ("text", {"format": {"type": "text"}}),
    ("tool_choice", "auto"),
    ("tools", []),
    ("top_logprobs", 0),
    ("top_p", 1.0),
    ("truncation", "disabled"),
    ("user", None),
)

INCOMPLETE_REASONS = {"length": "max_output_tokens", "content_filter": "content_filter"}
"""Chat ``finish_reason`` values that leave a response ``incomplete``, and the reason given."""


def response_object(
    request: dict[str, Any],
    *,
    response_id: str,
    model: str,
    created_at: int,
    status: str,
    output: list[dict[str, Any]],
    usage: dict[str, Any] | None,
    incomplete_reason: str | None = None,
    error: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A whole ``response`` object answering ``request``."""
    response: dict[str, Any] = {
        "id": response_id,
        "object": "response",
        "created_at": created_at,
        "status": status,
        "background": False,
        "error": error,
        "incomplete_details": None if incomplete_reason is None else {"reason": incomplete_reason},
        "model": model,
        "output": output,
        "previous_response_id": None,
        "usage": usage,
    }
    for field, default in _ECHOED:
        value = request.get(field)
        response[field] = default if value is None else value
    return response


def error_object(status: int, message: str) -> dict[str, Any]:
    """The ``error`` of a failed response, for a failure with HTTP status ``status``."""
    return {"code": "rate_limit_exceeded" if status == 429 else "server_error", "message": message}


def failure_object(error: GatewayError) -> dict[str, Any]:
    """The ``error`` of a response that failed with ``error``.

    An upstream's own error (an error event mid-stream) keeps its message and its most
    precise name as the code, as a Chat Completions client gets them: OpenAI's ``code``
    (else its ``type``), or Anthropic's type (``overloaded_error``). Any other failure
    gets the gateway's message and the code its status means.
    """
    payload = upstream_payload(error)
    if payload is not None and error.upstream_api == "anthropic":
        payload = anthropic_error_to_openai(payload)
    inner = payload.get("error") if payload is not None else None
    if isinstance(inner, dict) and isinstance(inner.get("message"), str):
        code = inner.get("code") or inner.get("type")
        if isinstance(code, str):
            return {"code": code, "message": inner["message"]}
    return error_object(error.status, error.message)


def usage_object(
    input_tokens: int, output_tokens: int, *, cached_tokens: int = 0, reasoning_tokens: int = 0
) -> dict[str, Any]:
    return {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": cached_tokens},
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": reasoning_tokens},
        "total_tokens": input_tokens + output_tokens,
    }


def output_text(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def message_item(item_id: str, content: list[dict[str, Any]], status: str) -> dict[str, Any]:
    return {
        "id": item_id,
        "type": "message",
        "status": status,
        "role": "assistant",
        "content": content,
    }


def reasoning_item(
    item_id: str, text: str | None, encrypted_content: str | None = None
) -> dict[str, Any]:
    """Reasoning as open-weight models report it: the text itself, no summary."""
    content = [] if text is None else [{"type": "reasoning_text", "text": text}]
    item = {"id": item_id, "type": "reasoning", "summary": [], "content": content}
    if encrypted_content is not None:
        item["encrypted_content"] = encrypted_content
    return item


def call_item(
    item_id: str,
    call_id: str,
    name: str,
    payload: str,
    status: str,
    *,
    custom: bool = False,
    namespace: str | None = None,
) -> dict[str, Any]:
    """A ``function_call`` (``payload`` is its JSON arguments) or a ``custom_tool_call``
    (``payload`` is its free-form input)."""
    item: dict[str, Any] = {
        "id": item_id,
        "type": "custom_tool_call" if custom else "function_call",
        "status": status,
        "call_id": call_id,
    }
    if namespace is not None:
        item["namespace"] = namespace
    item["name"] = name
    item["input" if custom else "arguments"] = payload
    return item


class EventWriter:
    """Encodes stream events, numbering them: every event carries its ``sequence_number``."""

    def __init__(self) -> None:
        self.sequence_number = 0

    def __call__(self, kind: str, **fields: Any) -> bytes:
        data = {"type": kind, "sequence_number": self.sequence_number, **fields}
        self.sequence_number += 1
        return encode_event(orjson.dumps(data), kind)
