"""The OpenAI API as clients see it: ``/v1/chat/completions`` and ``/v1/models``."""

from __future__ import annotations

from collections.abc import Sequence

import orjson
from starlette.requests import Request
from starlette.types import ASGIApp

from llm_gateway.config import ModelRoute
from llm_gateway.frontends.endpoint import run_endpoint
from llm_gateway.frontends.exchange import Exchange
from llm_gateway.frontends.pipeline import forward
from llm_gateway.frontends.replies import JSONBytes
from llm_gateway.frontends.request import (
    check_optional,
    read_json_object,
    require_messages,
    require_str,
)
from llm_gateway.frontends.shapes import ANTHROPIC, OPENAI
from llm_gateway.gateway import Gateway

ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})
OPTIONAL_FIELDS = (
    ("stream", "bool"),
    ("stream_options", "object"),
    ("max_tokens", "positive_int"),
    ("max_completion_tokens", "positive_int"),
    ("temperature", "number"),
    ("top_p", "number"),
    ("stop", "string_or_array_of_strings"),
    ("tools", "array"),
)


class OpenAIFrontend:
    def __init__(self, gateway: Gateway) -> None:
        self._gateway = gateway
        # The routes are fixed for the process's life, so each listing is encoded once.
        self._openai_models = _openai_model_list(gateway.config.models)
        self._anthropic_models = _anthropic_model_list(gateway.config.models)

    async def chat_completions(self, request: Request) -> ASGIApp:
        return await run_endpoint(self._gateway, request, OPENAI, self._chat_completions)

    async def _chat_completions(self, request: Request, exchange: Exchange) -> ASGIApp:
        raw, body = await read_json_object(request, self._gateway.config.max_body_bytes)
        exchange.model = require_str(body, "model")
        require_messages(body, ROLES)
        for field, kind in OPTIONAL_FIELDS:
            check_optional(body, field, kind)
        pool = self._gateway.router.resolve(exchange.model)
        return await forward(exchange, pool, "openai", body, raw, headers=request.headers.items())

    async def models(self, request: Request) -> ASGIApp:
        # Anthropic's SDK lists models at the same path; answer it in its own shape.
        shape = ANTHROPIC if "anthropic-version" in request.headers else OPENAI
        return await run_endpoint(self._gateway, request, shape, self._models)

    async def _models(self, request: Request, exchange: Exchange) -> ASGIApp:
        if "anthropic-version" in request.headers:
            return JSONBytes(self._anthropic_models, 200, exchange)
        return JSONBytes(self._openai_models, 200, exchange)


def _openai_model_list(routes: Sequence[ModelRoute]) -> bytes:
    data = [
        {"id": route.name, "object": "model", "created": 0, "owned_by": route.provider}
        for route in routes
    ]
    return orjson.dumps({"object": "list", "data": data})


def _anthropic_model_list(routes: Sequence[ModelRoute]) -> bytes:
    names = [route.name for route in routes]
    data = [
        {"type": "model", "id": name, "display_name": name, "created_at": "1970-01-01T00:00:00Z"}
        for name in names
    ]
    return orjson.dumps(
        {
            "data": data,
            "has_more": False,
            "first_id": names[0] if names else None,
            "last_id": names[-1] if names else None,
        }
    )
