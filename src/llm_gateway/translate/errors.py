"""Upstream error bodies and error events: Anthropic <-> OpenAI, each type to its counterpart.

Clients decide whether to retry, and what to tell their user, from an error's type, so a
translated error keeps what the upstream said: its message as it is, and its type mapped
to the other API's name for the same trouble. An OpenAI client also gets the Anthropic
type itself in ``code`` (``overloaded_error`` has no OpenAI counterpart but
``server_error``, and should not be lost); Anthropic's error has no such field.

Where the upstream's own type is unknown, the type follows the HTTP status, as the
gateway's own errors do; an error event mid-stream has no status of its own and counts
as a server error.
"""

from __future__ import annotations

from typing import Any

import orjson

from llm_gateway.apis import Api
from llm_gateway.errors import GatewayError, anthropic_error_type, openai_error_type
from llm_gateway.sse import SSEEvent

MID_STREAM = 500
"""The status an error event mid-stream is read as."""

_OPENAI_FROM_ANTHROPIC = {
    "invalid_request_error": "invalid_request_error",
    "request_too_large": "invalid_request_error",
    "authentication_error": "authentication_error",
    "permission_error": "permission_error",
    "not_found_error": "not_found_error",
    "rate_limit_error": "rate_limit_error",
    "billing_error": "insufficient_quota",
    "api_error": "server_error",
    "overloaded_error": "server_error",
    "timeout_error": "server_error",
}
# OpenAI's ``code`` is the more precise of its two names, so it is read first.
_ANTHROPIC_FROM_OPENAI_CODE = {
    "rate_limit_exceeded": "rate_limit_error",
    "insufficient_quota": "billing_error",
    "invalid_api_key": "authentication_error",
    "model_not_found": "not_found_error",
    "context_length_exceeded": "invalid_request_error",
}
_ANTHROPIC_FROM_OPENAI_TYPE = {
    "invalid_request_error": "invalid_request_error",
    "authentication_error": "authentication_error",
    "permission_error": "permission_error",
    "not_found_error": "not_found_error",
    "rate_limit_error": "rate_limit_error",
    "requests": "rate_limit_error",
    "tokens": "rate_limit_error",
    "insufficient_quota": "billing_error",
    "server_error": "api_error",
}


def anthropic_error_to_openai(payload: Any, status: int = MID_STREAM) -> dict[str, Any] | None:
    """An Anthropic error body (``{"type": "error", "error": {...}}``) in OpenAI's shape.

    ``None`` when ``payload`` is not an Anthropic error.
    """
    error = payload.get("error") if isinstance(payload, dict) else None
    if not isinstance(error, dict) or not isinstance(error.get("message"), str):
        return None
    kind = error.get("type")
    return {
        "error": {
            "message": error["message"],
            "type": _OPENAI_FROM_ANTHROPIC.get(str(kind), openai_error_type(status)),
            "param": None,
            "code": kind if isinstance(kind, str) else None,
        }
    }


def openai_error_to_anthropic(payload: Any, status: int = MID_STREAM) -> dict[str, Any] | None:
    """An OpenAI error body (``{"error": {...}}``) in Anthropic's shape.

    ``None`` when ``payload`` is not an OpenAI error.
    """
    error = payload.get("error") if isinstance(payload, dict) else None
    if isinstance(error, str):
        error = {"message": error}
    if not isinstance(error, dict) or not isinstance(error.get("message"), str):
        return None
    kind = _ANTHROPIC_FROM_OPENAI_CODE.get(str(error.get("code"))) or (
        _ANTHROPIC_FROM_OPENAI_TYPE.get(str(error.get("type")), anthropic_error_type(status))
    )
    return {"type": "error", "error": {"type": kind, "message": error["message"]}}


def upstream_payload(error: GatewayError) -> dict[str, Any] | None:
    """The JSON object of an upstream's error in an API's shape (its body, or an error
    event's data) that ``error`` carries; ``None`` for any other failure."""
    if error.upstream_api is None or not error.upstream_body:
        return None
    try:
        payload = orjson.loads(error.upstream_body)
    except orjson.JSONDecodeError:
        return None
    return payload if isinstance(payload, dict) else None


def stream_error(event: SSEEvent, api: Api, error: object) -> GatewayError:
    """The failure an upstream's error event mid-stream (``error``: its ``error`` field) is.

    The event's data goes with it (``upstream_body``), for the client to get the error
    as the upstream said it, or translated.
    """
    message = error.get("message") if isinstance(error, dict) else error
    kind = error.get("type") if isinstance(error, dict) else None
    return GatewayError(
        "upstream",
        502,
        f"Upstream failed mid-stream: {kind}: {message}"
        if kind
        else f"Upstream failed mid-stream: {message}",
        upstream_body=event.data,
        upstream_api=api,
    )
