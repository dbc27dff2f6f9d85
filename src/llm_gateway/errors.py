"""Errors that reach a client, and how each API spells them.

Every failure a client can see is a :class:`GatewayError`. It carries exactly one
:data:`ErrorType` (the classification the metrics count) and the HTTP status to answer
with. The front-ends render it in their own API's error shape, so an OpenAI client
always sees ``{"error": {...}}`` and an Anthropic client ``{"type": "error", ...}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import orjson

from llm_gateway.apis import Api
from llm_gateway.untrusted import clip

ErrorType = Literal["auth", "validation", "upstream", "timeout", "internal"]
ERROR_TYPES: tuple[ErrorType, ...] = ("auth", "validation", "upstream", "timeout", "internal")

MAX_MESSAGE = 1000
"""Characters of an error message kept; longer ones end with a marker saying how many more."""


class GatewayError(Exception):
    """A failure with a status, a classification and a message safe to show a client.

    When the failure is an upstream's own error answer, ``upstream_headers`` and
    ``upstream_body`` keep what the upstream sent, so that a front-end can pass it on and
    a retry policy can read its ``retry-after``. For an error event mid-stream,
    ``upstream_body`` is the event's data. ``upstream_api`` names the API shape the body is
    in, when it is one (an OpenAI or Anthropic upstream's, not Kiro's): only then can the
    client get it as it is, or translated. ``retry_after`` is the gateway's own
    advice to the client, sent as a ``Retry-After`` header (seconds).

    The message is cut to :data:`MAX_MESSAGE` characters, since it often quotes client
    text and is echoed into the response and the log.
    """

    def __init__(
        self,
        error_type: ErrorType,
        status: int,
        message: str,
        *,
        param: str | None = None,
        upstream_headers: Mapping[str, str] | None = None,
        upstream_body: bytes | None = None,
        upstream_api: Api | None = None,
        retry_after: int | None = None,
    ) -> None:
        message = clip(message, MAX_MESSAGE)
        super().__init__(message)
        self.error_type: ErrorType = error_type
        self.status = status
        self.message = message
        self.param = param
        self.upstream_headers = upstream_headers
        self.upstream_body = upstream_body
        self.upstream_api: Api | None = upstream_api
        self.retry_after = retry_after


class CredentialsRefused(GatewayError):
    """The gateway has no working credentials for an upstream: they are missing, or their
    refresh was refused. A pool takes the next upstream, and shows this one's as failed."""


def validation_error(message: str, *, param: str | None = None, status: int = 400) -> GatewayError:
    return GatewayError("validation", status, message, param=param)


# The upstream APIs name their error kinds by status; clients (and the official SDKs)
# branch on these names, so we keep them even for errors that are ours.
_OPENAI_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
}
_ANTHROPIC_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    504: "timeout_error",
    529: "overloaded_error",
}


def openai_error_type(status: int) -> str:
    """The OpenAI error ``type`` for an error with this HTTP status."""
    return _OPENAI_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")


def anthropic_error_type(status: int) -> str:
    """The Anthropic error ``type`` for an error with this HTTP status."""
    return _ANTHROPIC_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")


def openai_error_payload(error: GatewayError) -> dict[str, object]:
    return {
        "error": {
            "message": error.message,
            "type": openai_error_type(error.status),
            "param": error.param,
            "code": error.error_type,
        }
    }


def anthropic_error_payload(error: GatewayError) -> dict[str, object]:
    error_type = anthropic_error_type(error.status)
    return {"type": "error", "error": {"type": error_type, "message": error.message}}


def openai_error_body(error: GatewayError) -> bytes:
    return orjson.dumps(openai_error_payload(error))


def anthropic_error_body(error: GatewayError) -> bytes:
    return orjson.dumps(anthropic_error_payload(error))
