"""Build the provider that serves each configured route."""

from __future__ import annotations

import aiohttp

from llm_gateway.config import ModelRoute
from llm_gateway.providers.anthropic import AnthropicProvider
from llm_gateway.providers.base import Provider
from llm_gateway.providers.openai import OpenAIProvider


def build_provider(route: ModelRoute, session: aiohttp.ClientSession) -> Provider:
    if route.provider == "openai":
        return OpenAIProvider(route, session)
    if route.provider == "anthropic":
        return AnthropicProvider(route, session)
    if route.provider == "kiro":
        from llm_gateway.providers.kiro import KiroProvider

        return KiroProvider(route, session)
    from llm_gateway.providers.sim import SimProvider

    return SimProvider(route)
