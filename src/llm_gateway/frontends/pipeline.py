"""The request path shared by the front-ends: route, translate if needed, send, relay.

``request -> route -> provider -> response``: a validated client request in shape
``client`` goes to an upstream of the route's pool, in a shape its provider speaks (the
client's own when it can, so the bytes pass through untouched), and the reply comes back
in the client's shape. An upstream that fails before answering hands the request to the
next (see :mod:`llm_gateway.pools`). Usage and errors are noted on the :class:`Exchange`
on the way.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.types import ASGIApp

from llm_gateway.apis import Api
from llm_gateway.config import ModelRoute
from llm_gateway.errors import GatewayError
from llm_gateway.frontends.exchange import Exchange
from llm_gateway.frontends.relay import FailingRelay, StreamRelay, make_relay
from llm_gateway.frontends.replies import EventStream, JSONBytes
from llm_gateway.frontends.shapes import SHAPES, Shape
from llm_gateway.frontends.upstream_errors import error_event
from llm_gateway.frontends.warnings import (
    warn_dropped_parameter,
    warn_dropped_thinking,
    warn_dropped_tools,
)
from llm_gateway.headers import forwarded_request_headers, returned_response_headers
from llm_gateway.pools import Pool, Upstream
from llm_gateway.pools.retry import judge
from llm_gateway.providers.base import UpstreamReply
from llm_gateway.providers.http import error_message, redact, redact_error
from llm_gateway.tokens import estimate_request_tokens
from llm_gateway.translate.options import RouteOptions, is_reasoning_model
from llm_gateway.translate.requests import (
    anthropic_request_to_openai,
    drops_thinking,
    json_prefill,
    openai_request_to_anthropic,
)
from llm_gateway.translate.responses import (
    anthropic_response_to_openai,
    openai_response_to_anthropic,
)
from llm_gateway.translate.responses_api.replies import chat_reply_to_response
from llm_gateway.translate.responses_api.requests import (
    ResponsesTemplate,
    responses_request_to_chat,
)
from llm_gateway.translate.unsupported import unsupported_error, untranslatable

pool_log = logging.getLogger("llm_gateway.pools")

_MALFORMED = "Upstream sent a malformed response"


def upstream_api(client: Api, speaks: frozenset[Api]) -> Api:
    """The shape to send a ``client``-shaped request in: its own when the provider speaks
    it (pass-through); else the other chat shape, the Responses API going through Chat
    Completions."""
    if client in speaks:
        return client
    if client == "responses" and "openai" in speaks:
        return "openai"
    return "anthropic" if client != "anthropic" else "openai"


async def forward(
    exchange: Exchange,
    pool: Pool,
    client: Api,
    body: dict[str, Any],
    raw: bytes | None,
    *,
    headers: Sequence[tuple[str, str]],
) -> ASGIApp:
    """Send a validated request upstream and return the ASGI response for the client.

    ``raw`` is the client's body as received; it is sent as-is when nothing in it has to
    change, so pass-through requests are not re-encoded. ``headers`` are the client's
    request headers (lower-case names); those meant for the upstream go with it.
    """
    stream = body.get("stream") is True
    client_wants_usage = _wants_usage(body) if client == "openai" else True
    reply, request = await _attempts(exchange, pool, client, body, raw, stream, headers)
    exchange.meta = reply.meta
    exchange.state = "streaming" if stream else "receiving"
    returned = returned_response_headers(reply.headers)
    if not stream:
        try:
            data = await reply.read()
        finally:
            await reply.aclose()
        encoded = _to_client(data, client, request, exchange, reply)
        return JSONBytes(encoded, 200, exchange, returned)

    relay = make_relay(
        request.api,
        client,
        client_wants_usage=client_wants_usage,
        prefill=request.prefill,
        template=request.template,
    )
    chunks = _relay(reply, relay, request, SHAPES[client], exchange)
    return EventStream(chunks, exchange, reply.aclose, returned)


async def _attempts(
    exchange: Exchange,
    pool: Pool,
    client: Api,
    body: dict[str, Any],
    raw: bytes | None,
    stream: bool,
    headers: Sequence[tuple[str, str]],
) -> tuple[UpstreamReply, _Request]:
    """Try the pool's upstreams until one answers, retrying what the policy allows.

    Only a failure to start an answer (``send``) is retried: until it returns, no byte
    has reached the client. Once one has, a failure ends the response, as it would
    without a pool, so two answers are never spliced together.
    """
    tried: list[Upstream] = []
    failure: GatewayError | None = None
    while len(tried) < pool.attempts:
        upstream = pool.pick(tried)
        if upstream is None:
            break
        tried.append(upstream)
        request = _for_upstream(upstream, client, exchange.model, body, raw, stream)
        exchange.attempt(upstream)
        try:
            reply = await upstream.provider.send(
                request.api,
                request.body,
                stream=stream,
                raw=request.raw,
                headers=forwarded_request_headers(headers, client, request.api),
            )
        except GatewayError as error:
            exchange.attempt_failed()
            verdict = judge(error, pool.wall()) if pool.fails_over else None
            if verdict is None:
                raise
            seconds = pool.rest(upstream, verdict)
            pool_log.warning(
                "model=%s upstream=%s failed (%d, %s); it rests %.0f s",
                exchange.model,
                upstream.label,
                error.status,
                error.message,
                seconds,
            )
            failure = error
        else:
            return reply, request
    # The last upstream's own error says more than "all resting" when one was tried.
    raise failure if failure is not None else pool.all_resting()


@dataclass(frozen=True, slots=True)
class _Request:
    """The request as one upstream takes it."""

    api: Api
    body: dict[str, Any]
    raw: bytes | None
    """The client's bytes, when the body did not have to change."""
    prefill: str
    template: ResponsesTemplate | None
    """For a Responses request sent as Chat Completions: what its reply needs."""


def _for_upstream(
    upstream: Upstream,
    client: Api,
    model: str,
    body: dict[str, Any],
    raw: bytes | None,
    stream: bool,
) -> _Request:
    """The client's request for ``upstream``; ``body`` itself is left for the next attempt."""
    route = upstream.route
    api = upstream_api(client, upstream.provider.speaks)
    upstream_model = route.upstream_model(model)
    template: ResponsesTemplate | None = None
    if client == "responses" and api != "responses":
        # Checked once, in the client's own names, against where the request ends up.
        _check_untranslatable(route, body, client, api)
        reasoning = api == "anthropic" or is_reasoning_model(upstream_model, _route_options(route))
        body, template = responses_request_to_chat(body, reasoning_model=reasoning)
        warn_dropped_tools(route.name, template.dropped_tools)
        raw = None
    # A translated Responses request continues as a Chat Completions request.
    hub: Api = "openai" if template is not None else client
    prefill = ""
    if api != hub:
        if template is None:
            _check_untranslatable(route, body, hub, api)
        options = _route_options(route)
        if hub == "openai":
            if drops_thinking(body) and route.provider != "kiro":
                warn_dropped_thinking(route.name)
            prefill = json_prefill(body, options)
            body = openai_request_to_anthropic({**body, "model": upstream_model}, options)
        else:
            body = anthropic_request_to_openai({**body, "model": upstream_model}, options)
        raw = None
    if body.get("model") != upstream_model:
        body = {**body, "model": upstream_model}
        raw = None
    if api == "openai" and stream and not _wants_usage(body):
        # Ask for usage even when the client did not; the relay hides it again.
        stream_options = {**(body.get("stream_options") or {}), "include_usage": True}
        body = {**body, "stream_options": stream_options}
        raw = None
    return _Request(api, body, raw, prefill, template)


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
    for name in untranslatable(body, client, upstream):
        if not route.drop_unsupported:
            raise unsupported_error(name, upstream)
        warn_dropped_parameter(route.name, name, upstream)


def _wants_usage(body: dict[str, Any]) -> bool:
    options = body.get("stream_options")
    return isinstance(options, dict) and options.get("include_usage") is True


def _to_client(
    data: bytes, client: Api, request: _Request, exchange: Exchange, reply: UpstreamReply
) -> bytes:
    try:
        parsed = orjson.loads(data)
        if not isinstance(parsed, dict):
            raise ValueError(_MALFORMED)
        if _is_error(parsed, request.api):
            # A 200 whose body is the API's error is an error, not a success. The key goes
            # before the message is cut to its length: one cut through the key would leave
            # its beginning where no whole match finds it.
            body = redact(data, reply.meta.secrets)
            raise GatewayError(
                "upstream",
                502,
                f"upstream answered 200 with an error: {error_message(body, 200)}",
                upstream_headers=reply.headers,
                upstream_body=body,
                upstream_api=request.api,
            )
        if request.api == client:
            out, encoded = parsed, data
        else:
            out = parsed
            if request.api == "anthropic":
                out = anthropic_response_to_openai(out, prefill=request.prefill)
            elif client == "anthropic":
                out = openai_response_to_anthropic(out)
            if request.template is not None:
                out = chat_reply_to_response(out, request.template)
            encoded = orjson.dumps(out)
    except (ValueError, KeyError, TypeError, AttributeError):
        raise GatewayError("upstream", 502, _MALFORMED) from None
    exchange.set_usage(*SHAPES[client].usage(out))
    return encoded


def _is_error(body: dict[str, Any], api: Api) -> bool:
    if api == "openai":
        return bool(body.get("error"))
    if api == "responses":
        # A failed response object carries an ``error`` too, and is an answer.
        return body.get("object") != "response" and bool(body.get("error"))
    return body.get("type") == "error"


async def _relay(
    reply: UpstreamReply,
    relay: StreamRelay,
    request: _Request,
    client: Shape,
    exchange: Exchange,
) -> AsyncGenerator[bytes, None]:
    upstream = SHAPES[request.api]
    ended = False
    try:
        async for event in reply.events():
            ended = ended or upstream.is_stream_end(event)
            chunks = relay.feed(event)
            if b"delta" in event.raw:
                # Read while it streams, by the list of requests in flight, too.
                exchange.deltas += 1
            if chunks:
                yield _joined(chunks)
        if not ended:
            raise GatewayError("upstream", 502, "Upstream stream ended before it was complete")
        if chunks := relay.finish():
            yield _joined(chunks)
    except GatewayError as error:
        exchange.error = redact_error(error, reply.meta.secrets)
        for chunk in _failure(relay, client, error):
            yield chunk
    except (ValueError, KeyError, TypeError, AttributeError):
        exchange.error = GatewayError("upstream", 502, _MALFORMED)
        for chunk in _failure(relay, client, exchange.error):
            yield chunk
    finally:
        input_tokens, output_tokens = relay.input_tokens, relay.output_tokens
        if not ended:
            # Cut short (the client left, or the stream failed) before the upstream's final
            # usage: count the prompt and a token per delta relayed rather than none
            # (agents cancel often), marked as estimates.
            estimated = False
            if input_tokens == 0:
                input_tokens = estimate_request_tokens(request.api, request.body)
                estimated = True
            if exchange.deltas > output_tokens:
                output_tokens = exchange.deltas
                estimated = True
            if estimated and exchange.meta is not None:
                exchange.meta.tokens_estimated = True
        exchange.set_usage(input_tokens, output_tokens)


def _joined(chunks: list[bytes]) -> bytes:
    """The events one upstream event became, as one piece: one ASGI message, one write.

    A translated stream often turns one event into several (an OpenAI stream's first
    chunk opens an Anthropic message and its first content block).
    """
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _failure(relay: StreamRelay, client: Shape, error: GatewayError) -> list[bytes]:
    """What ends a stream that failed: the relay's own event where it writes one."""
    if isinstance(relay, FailingRelay):
        return relay.fail(error)
    return [error_event(error, client)]
