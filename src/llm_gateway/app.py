"""The ASGI application: routes to the three front-ends, and JSON errors for everything else."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from llm_gateway.config import GatewayConfig
from llm_gateway.errors import GatewayError
from llm_gateway.frontends.abandon import Endpoint
from llm_gateway.frontends.anthropic import AnthropicFrontend
from llm_gateway.frontends.openai import OpenAIFrontend
from llm_gateway.frontends.responses_api import ResponsesFrontend
from llm_gateway.frontends.shapes import ANTHROPIC, OPENAI
from llm_gateway.gateway import Gateway
from llm_gateway.metrics.record import MetricsSink, NullMetrics

_HEALTH_BODY = b'{"status":"ok"}'


def create_app(
    config: GatewayConfig,
    metrics: MetricsSink | None = None,
    *,
    clock: Callable[[], float] = time.monotonic,
) -> Starlette:
    """The gateway's app; ``clock`` times its requests (see :class:`Gateway`)."""
    gateway = Gateway(config, metrics or NullMetrics(), clock)
    openai = OpenAIFrontend(gateway)
    anthropic = AnthropicFrontend(gateway)
    responses = ResponsesFrontend(gateway)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await gateway.start()
        try:
            yield
        finally:
            await gateway.stop()

    routes = [
        Route("/v1/chat/completions", Endpoint(openai.chat_completions), methods=["POST"]),
        Route("/v1/models", Endpoint(openai.models), methods=["GET"]),
        Route("/v1/responses", Endpoint(responses.responses), methods=["POST"]),
        Route("/v1/messages", Endpoint(anthropic.messages), methods=["POST"]),
        Route("/v1/messages/count_tokens", Endpoint(anthropic.count_tokens), methods=["POST"]),
        Route("/health", health, methods=["GET"]),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={HTTPException: http_error},
    )
    # Starlette would answer /v1/messages/ with a redirect built from the client's Host
    # header, before any key is checked: an unknown path is a plain 404 instead.
    app.router.redirect_slashes = False
    return app


async def health(request: Request) -> Response:
    return Response(_HEALTH_BODY, media_type="application/json")


async def http_error(request: Request, exc: Exception) -> Response:
    """Unknown paths and wrong methods, answered in the API shape the path belongs to."""
    assert isinstance(exc, HTTPException)
    path = request.scope["path"]
    message = f"{request.method} {path}: {exc.detail}"
    shape = ANTHROPIC if path.startswith("/v1/messages") else OPENAI
    error = GatewayError("validation", exc.status_code, message)
    return Response(shape.error_body(error), exc.status_code, media_type="application/json")
