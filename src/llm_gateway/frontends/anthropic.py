"""The Anthropic API as clients see it: ``/v1/messages`` and ``/v1/messages/count_tokens``."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.types import ASGIApp

from llm_gateway.frontends.endpoint import run_endpoint
from llm_gateway.frontends.exchange import Exchange
from llm_gateway.frontends.pipeline import forward
from llm_gateway.frontends.replies import JSONBytes
from llm_gateway.frontends.request import (
    check_optional,
    read_json_object,
    require_messages,
    require_positive_int,
    require_str,
)
from llm_gateway.frontends.shapes import ANTHROPIC
from llm_gateway.gateway import Gateway
from llm_gateway.headers import forwarded_request_headers, returned_response_headers
from llm_gateway.providers.base import CountsTokens
from llm_gateway.tokens import estimate_input_tokens

ROLES = frozenset({"user", "assistant"})
OPTIONAL_FIELDS = (
    ("stream", "bool"),
    ("system", "string_or_array"),
    ("temperature", "number"),
    ("top_p", "number"),
    ("top_k", "positive_int"),
    ("stop_sequences", "array_of_strings"),
    ("tools", "array"),
    ("tool_choice", "object"),
    ("metadata", "object"),
)


class AnthropicFrontend:
    def __init__(self, gateway: Gateway) -> None:
        self._gateway = gateway

    async def messages(self, request: Request) -> ASGIApp:
        return await run_endpoint(self._gateway, request, ANTHROPIC, self._messages)

    async def count_tokens(self, request: Request) -> ASGIApp:
        return await run_endpoint(self._gateway, request, ANTHROPIC, self._count_tokens)

    async def _read(self, request: Request, exchange: Exchange) -> tuple[bytes, dict[str, Any]]:
        raw, body = await read_json_object(request, self._gateway.config.max_body_bytes)
        exchange.model = require_str(body, "model")
        require_messages(body, ROLES)
        for field, kind in OPTIONAL_FIELDS:
            check_optional(body, field, kind)
        return raw, body

    async def _messages(self, request: Request, exchange: Exchange) -> ASGIApp:
        raw, body = await self._read(request, exchange)
        require_positive_int(body, "max_tokens")
        pool = self._gateway.router.resolve(exchange.model)
        return await forward(
            exchange, pool, "anthropic", body, raw, headers=request.headers.items()
        )

    async def _count_tokens(self, request: Request, exchange: Exchange) -> ASGIApp:
        _, body = await self._read(request, exchange)
        upstream = self._gateway.router.resolve(exchange.model).pick()
        if upstream is not None and isinstance(upstream.provider, CountsTokens):
            body["model"] = upstream.route.upstream_model(exchange.model)
            headers = forwarded_request_headers(request.headers.items(), "anthropic", "anthropic")
            counted = await upstream.provider.count_tokens(body, headers)
            returned = returned_response_headers(counted.headers)
            return JSONBytes(counted.body, 200, exchange, returned)
        count = estimate_input_tokens(body)
        return JSONBytes(orjson.dumps({"input_tokens": count}), 200, exchange)
