"""What a client gets for a failure: the upstream's own error when there is one, else ours.

An upstream's error answer (a 4xx/5xx, a 200 whose body is an error, or an error event
mid-stream) reaches the client as the upstream said it when the client speaks the
upstream's API: the body byte for byte with the upstream's status, the event with its
type. Across APIs it is translated (:mod:`llm_gateway.translate.errors`), its message
and the meaning of its type kept. Only what is no API's error (a proxy's HTML page,
Kiro's own shape) and the gateway's own failures get the gateway's error body, with its
classification in OpenAI's ``code``. The classification of every failure goes to the
access log and the metrics, through the :class:`~llm_gateway.frontends.exchange.Exchange`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from llm_gateway.apis import Api
from llm_gateway.errors import GatewayError
from llm_gateway.frontends.shapes import Shape
from llm_gateway.headers import returned_response_headers
from llm_gateway.sse import encode_event
from llm_gateway.translate.errors import (
    MID_STREAM,
    anthropic_error_to_openai,
    openai_error_to_anthropic,
    upstream_payload,
)

_TRANSLATE: dict[tuple[Api, Api], Callable[[Any, int], dict[str, Any] | None]] = {
    ("anthropic", "openai"): anthropic_error_to_openai,
    ("openai", "anthropic"): openai_error_to_anthropic,
}
_EVENT_NAME: dict[Api, str | None] = {"openai": None, "anthropic": "error"}
# The Responses API's error answers are Chat Completions' (``{"error": {...}}``).
_ERROR_SHAPE: dict[Api, Api] = {"openai": "openai", "responses": "openai", "anthropic": "anthropic"}


def error_body(error: GatewayError, shape: Shape) -> bytes:
    """The body of an error answer to a client of ``shape``'s API."""
    payload = upstream_payload(error)
    if payload is not None and error.upstream_body is not None:
        assert error.upstream_api is not None
        if _ERROR_SHAPE[error.upstream_api] == _ERROR_SHAPE[shape.api]:
            return error.upstream_body
        translated = _translated(payload, error, _ERROR_SHAPE[shape.api], error.status)
        if translated is not None:
            return orjson.dumps(translated)
    return shape.error_body(error)


def error_event(error: GatewayError, shape: Shape) -> bytes:
    """The SSE event that ends a stream to a client of ``shape``'s API with ``error``."""
    payload = upstream_payload(error)
    if payload is not None and shape.api in _EVENT_NAME:
        data = error.upstream_body if error.upstream_api == shape.api else None
        if data is None:
            translated = _translated(payload, error, shape.api, MID_STREAM)
            data = orjson.dumps(translated) if translated is not None else None
        if data is not None:
            # One ``data:`` line; an upstream's event data spread over lines is re-encoded.
            line = data if b"\n" not in data else orjson.dumps(payload)
            return encode_event(line, _EVENT_NAME[shape.api])
    return shape.stream_error(error)


def error_headers(error: GatewayError) -> list[tuple[bytes, bytes]]:
    """The upstream's useful headers, and the gateway's own ``retry-after`` if it gives one."""
    headers = returned_response_headers(error.upstream_headers)
    if error.retry_after is None:
        return headers
    own = [(name, value) for name, value in headers if name != b"retry-after"]
    return [*own, (b"retry-after", str(error.retry_after).encode())]


def _translated(
    payload: dict[str, Any], error: GatewayError, client: Api, status: int
) -> dict[str, Any] | None:
    assert error.upstream_api is not None
    translate = _TRANSLATE.get((error.upstream_api, client))
    return translate(payload, status) if translate is not None else None
