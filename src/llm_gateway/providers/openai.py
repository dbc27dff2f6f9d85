"""Any OpenAI-compatible Chat Completions server (OpenAI, vLLM, llama.cpp, Ollama, ...)."""

from __future__ import annotations

import aiohttp

from llm_gateway.apis import Api
from llm_gateway.config import ModelRoute
from llm_gateway.providers.http import JSONPostProvider


class OpenAIProvider(JSONPostProvider):
    """Chat Completions at ``/chat/completions``; with ``responses = "pass-through"`` the
    route also speaks the Responses API, at the upstream's own ``/responses``."""

    def __init__(self, route: ModelRoute, session: aiohttp.ClientSession) -> None:
        headers = {"content-type": "application/json"}
        if route.api_key:
            headers["authorization"] = f"Bearer {route.api_key}"
        base = route.base_url.rstrip("/")
        super().__init__(session, base + "/chat/completions", headers, route)
        self._responses_url = base + "/responses"
        passes_responses = route.responses == "pass-through"
        self.speaks: frozenset[Api] = frozenset(
            {"openai", "responses"} if passes_responses else {"openai"}
        )

    def url_for(self, api: Api) -> str:
        return self._responses_url if api == "responses" else self._url
