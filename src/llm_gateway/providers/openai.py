"""Any OpenAI-compatible Chat Completions server (OpenAI, vLLM, llama.cpp, Ollama, ...)."""

from __future__ import annotations

import aiohttp

from llm_gateway.apis import Api
from llm_gateway.config import ModelRoute
from llm_gateway.providers.http import JSONPostProvider


class OpenAIProvider(JSONPostProvider):
    speaks: frozenset[Api] = frozenset({"openai"})

    def __init__(self, route: ModelRoute, session: aiohttp.ClientSession) -> None:
        headers = {"Content-Type": "application/json"}
        if route.api_key:
            headers["Authorization"] = f"Bearer {route.api_key}"
        super().__init__(session, route.base_url.rstrip("/") + "/chat/completions", headers, route)
