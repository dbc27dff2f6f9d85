"""The request path shared by both front-ends: route, translate if needed, send, relay.

``request -> route -> provider -> response``: a validated client request in shape
``client`` goes to the route's provider in a shape the provider speaks (the client's own
when it can, so the bytes pass through untouched), and the reply comes back in the
client's shape. Usage and errors are noted on the :class:`Exchange` on the way.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator
from typing import Any

import orjson
from starlette.types import ASGIApp

from llm_gateway.apis import Api
from llm_gateway.config import ModelRoute
from llm_gateway.errors import GatewayError
from llm_gateway.frontends.exchange import Exchange
from llm_gateway.frontends.relay import StreamRelay, make_relay
from llm_gateway.frontends.replies import EventStream, JSONBytes
from llm_gateway.frontends.shapes import SHAPES, Shape
from llm_gateway.providers.base import UpstreamReply
from llm_gateway.routing import Target
from llm_gateway.translate.options import RouteOptions
from llm_gateway.translate.requests import (
    anthropic_request_to_openai,
    json_prefill,
    openai_request_to_anthropic,
)
from llm_gateway.translate.responses import (
    anthropic_response_to_openai,
    openai_response_to_anthropic,
)
from llm_gateway.translate.unsupported import unsupported_error, untranslatable

logger = logging.getLogger("llm_gateway.translate")

_MALFORMED = "Upstream sent a malformed response"
# (route name, parameter) pairs already logged as dropped by this process.
_dropped_logged: set[tuple[str, str]] = set()


def _other(api: Api) -> Api:
    return "anthropic" if api == "openai" else "openai"


async def forward(
    exchange: Exchange,
    target: Target,
    client: Api,
    body: dict[str, Any],
    raw: bytes | None,
) -> ASGIApp:
    """Send a validated request upstream and return the ASGI response for the client.

    ``raw`` is the client's body as received; it is sent as-is when nothing in it has to
    change, so pass-through requests are not re-encoded.
    """
    stream = body.get("stream") is True
    upstream: Api = client if client in target.provider.speaks else _other(client)
    upstream_model = target.route.upstream_model(exchange.model)
    client_wants_usage = _wants_usage(body) if client == "openai" else True

    prefill = ""
    if upstream != client:
        _check_untranslatable(target.route, body, client, upstream)
        options = _route_options(target.route)
        if client == "openai":
            prefill = json_prefill(body, options)
            body = openai_request_to_anthropic({**body, "model": upstream_model}, options)
        else:
            body = anthropic_request_to_openai({**body, "model": upstream_model}, options)
        raw = None
    if body.get("model") != upstream_model:
        body["model"] = upstream_model
        raw = None
    if upstream == "openai" and stream and not _wants_usage(body):
        # Ask for usage even when the client did not; the relay hides it again.
        body["stream_options"] = {**(body.get("stream_options") or {}), "include_usage": True}
        raw = None

    reply = await target.provider.send(upstream, body, stream=stream, raw=raw)
    exchange.meta = reply.meta
    if not stream:
        try:
            data = await reply.read()
        finally:
            await reply.aclose()
        return JSONBytes(_to_client(data, upstream, client, exchange, prefill), 200, exchange)

    relay = make_relay(upstream, client, client_wants_usage=client_wants_usage, prefill=prefill)
    chunks = _relay(reply, relay, SHAPES[upstream], SHAPES[client], exchange)
    return EventStream(chunks, exchange, reply.aclose)


def _route_options(route: ModelRoute) -> RouteOptions:
    # Kiro cannot continue a prefilled answer.
    return RouteOptions(
        default_max_tokens=route.default_max_tokens,
        reasoning_model=route.reasoning_model,
        json_prefill=route.json_prefill and route.provider != "kiro",
    )


def _check_untranslatable(
    route: ModelRoute, body: dict[str, Any], client: Api, upstream: Api
) -> None:
    """Refuse what would be lost in translation, or drop it, as the route says."""
    for name in untranslatable(body, client):
        if not route.drop_unsupported:
            raise unsupported_error(name, upstream)
        if (route.name, name) not in _dropped_logged:
            _dropped_logged.add((route.name, name))
            logger.warning(
                "route %s: dropping %r, which the %s API has no equivalent for "
                "(drop_unsupported = true; logged once)",
                route.name,
                name,
                upstream,
            )


def _wants_usage(body: dict[str, Any]) -> bool:
    options = body.get("stream_options")
    return isinstance(options, dict) and options.get("include_usage") is True


def _to_client(data: bytes, upstream: Api, client: Api, exchange: Exchange, prefill: str) -> bytes:
    try:
        parsed = orjson.loads(data)
        if not isinstance(parsed, dict):
            raise ValueError(_MALFORMED)
        if upstream == client:
            out, encoded = parsed, data
        else:
            out = (
                anthropic_response_to_openai(parsed, prefill=prefill)
                if upstream == "anthropic"
                else openai_response_to_anthropic(parsed)
            )
            encoded = orjson.dumps(out)
    except (ValueError, KeyError, TypeError, AttributeError):
        raise GatewayError("upstream", 502, _MALFORMED) from None
    exchange.set_usage(*SHAPES[client].usage(out))
    return encoded


async def _relay(
    reply: UpstreamReply,
    relay: StreamRelay,
    upstream: Shape,
    client: Shape,
    exchange: Exchange,
) -> AsyncGenerator[bytes, None]:
    ended = False
    try:
        async for event in reply.events():
            ended = ended or upstream.is_stream_end(event)
            for chunk in relay.feed(event):
                yield chunk
        if not ended:
            raise GatewayError("upstream", 502, "Upstream stream ended before it was complete")
        for chunk in relay.finish():
            yield chunk
    except GatewayError as error:
        exchange.error = error
        yield client.stream_error(error)
    except (ValueError, KeyError, TypeError, AttributeError):
        exchange.error = GatewayError("upstream", 502, _MALFORMED)
        yield client.stream_error(exchange.error)
    finally:
        exchange.set_usage(relay.input_tokens, relay.output_tokens)
