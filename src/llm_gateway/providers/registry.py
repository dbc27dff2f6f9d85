"""Build the provider that serves each configured route."""

from __future__ import annotations

import aiohttp

from llm_gateway.config import ModelRoute
from llm_gateway.providers.anthropic import AnthropicProvider
from llm_gateway.providers.base import Provider
from llm_gateway.providers.openai import OpenAIProvider


def build_provider(
    route: ModelRoute, session: aiohttp.ClientSession, *, pooled: bool = False
) -> Provider:
    """``pooled``: the route is one of several upstreams, which take over when it fails."""
    if route.provider == "openai":
        return OpenAIProvider(route, session)
    if route.provider == "anthropic":
        return AnthropicProvider(route, session)
    if route.provider == "kiro":
        from llm_gateway.providers.kiro import Backoff, KiroProvider

        # In a pool, a 429 or 5xx goes to the next upstream at once instead of waiting here.
        return KiroProvider(route, session, backoff=Backoff(retries=0) if pooled else Backoff())
    from llm_gateway.providers.sim import SimProvider

    return SimProvider(route)
