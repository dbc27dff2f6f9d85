"""The OpenAI Responses API as clients see it: ``POST /v1/responses``.

Codex CLI speaks only this API, and so do ``client.responses.create`` and
``client.responses.stream`` in the ``openai`` SDK. A route whose provider speaks it (the
simulator, or an ``openai`` route with ``responses = "pass-through"``) gets the request
untouched; every other route gets it translated to Chat Completions (see
:mod:`llm_gateway.translate.responses_api`). Errors are in the OpenAI shape.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp

from llm_gateway.errors import validation_error
from llm_gateway.frontends.endpoint import run_endpoint
from llm_gateway.frontends.exchange import Exchange
from llm_gateway.frontends.pipeline import forward
from llm_gateway.frontends.request import check_optional, read_json_object, require_str
from llm_gateway.frontends.shapes import RESPONSES
from llm_gateway.gateway import Gateway
from llm_gateway.translate.responses_api.requests import INPUT_ITEM_TYPES

ROLES = frozenset({"user", "assistant", "system", "developer"})
OPTIONAL_FIELDS = (
    ("stream", "bool"),
    ("instructions", "string_or_array"),
    ("max_output_tokens", "positive_int"),
    ("temperature", "number"),
    ("top_p", "number"),
    ("tools", "array"),
    ("parallel_tool_calls", "bool"),
    ("text", "object"),
    ("reasoning", "object"),
    ("metadata", "object"),
    ("include", "array_of_strings"),
    ("store", "bool"),
)


class ResponsesFrontend:
    def __init__(self, gateway: Gateway) -> None:
        self._gateway = gateway

    async def responses(self, request: Request) -> ASGIApp:
        return await run_endpoint(self._gateway, request, RESPONSES, self._responses)

    async def _responses(self, request: Request, exchange: Exchange) -> ASGIApp:
        raw, body = await read_json_object(request, self._gateway.config.max_body_bytes)
        exchange.model = require_str(body, "model")
        require_input(body)
        for field, kind in OPTIONAL_FIELDS:
            check_optional(body, field, kind)
        pool = self._gateway.router.resolve(exchange.model)
        return await forward(
            exchange, pool, "responses", body, raw, headers=request.headers.items()
        )


def require_input(body: dict[str, Any]) -> None:
    """``input``: a non-empty string, or a non-empty list of items of known types."""
    items = body.get("input")
    if isinstance(items, str) and items:
        return
    if not isinstance(items, list) or not items:
        raise validation_error(
            "'input' must be a non-empty string or a non-empty array of items", param="input"
        )
    for index, item in enumerate(items):
        where = f"input[{index}]"
        if not isinstance(item, dict):
            raise validation_error(f"'{where}' must be an object", param=where)
        kind = item.get("type", "message")
        if kind not in INPUT_ITEM_TYPES:
            raise validation_error(
                f"'{where}.type' is {kind!r}, which is not an input item type",
                param=f"{where}.type",
            )
        if kind == "message":
            if item.get("role") not in ROLES:
                raise validation_error(
                    f"'{where}.role' must be one of {', '.join(sorted(ROLES))}; got {item.get('role')!r}",
                    param=f"{where}.role",
                )
            if not isinstance(item.get("content"), str | list):
                raise validation_error(
                    f"'{where}.content' must be a string or an array of content parts",
                    param=f"{where}.content",
                )
