"""Anthropic's Messages API (``x-api-key`` and ``anthropic-version`` headers).

``anthropic-version`` is the client's when it sent one, else :data:`ANTHROPIC_VERSION`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiohttp
import orjson

from llm_gateway.apis import Api
from llm_gateway.config import ModelRoute
from llm_gateway.errors import GatewayError
from llm_gateway.headers import NO_HEADERS
from llm_gateway.providers.base import TokenCount
from llm_gateway.providers.http import HTTPReply, JSONPostProvider, post

ANTHROPIC_VERSION = "2023-06-01"


class AnthropicProvider(JSONPostProvider):
    speaks: frozenset[Api] = frozenset({"anthropic"})

    def __init__(self, route: ModelRoute, session: aiohttp.ClientSession) -> None:
        base = route.base_url.rstrip("/").removesuffix("/v1")
        headers = {"content-type": "application/json"}
        if route.api_key:
            headers["x-api-key"] = route.api_key
        super().__init__(
            session,
            base + "/v1/messages",
            headers,
            route,
            defaults={"anthropic-version": ANTHROPIC_VERSION},
        )

    async def count_tokens(
        self, body: dict[str, Any], headers: Mapping[str, str] = NO_HEADERS
    ) -> TokenCount:
        """Ask the upstream itself: only it knows its tokenizer."""
        response = await post(
            self._session,
            self._url + "/count_tokens",
            orjson.dumps(body),
            self._with(headers),
            self._timeout,
            "anthropic",
        )
        reply = HTTPReply(response, self._max_response_bytes)
        try:
            answer = await reply.read()
        finally:
            await reply.aclose()
        try:
            data: Any = orjson.loads(answer)
        except orjson.JSONDecodeError:
            data = None
        if not isinstance(data, dict) or not isinstance(data.get("input_tokens"), int):
            raise GatewayError("upstream", 502, "upstream sent a malformed token count")
        return TokenCount(int(data["input_tokens"]), answer, reply.headers)
