"""What every API endpoint does around its own work: auth, error shapes, bookkeeping."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.types import ASGIApp

from llm_gateway.errors import GatewayError
from llm_gateway.frontends.exchange import CLIENT_CLOSED, Exchange
from llm_gateway.frontends.replies import JSONBytes
from llm_gateway.frontends.request import ClientGone
from llm_gateway.frontends.shapes import Shape
from llm_gateway.frontends.upstream_errors import error_body, error_headers
from llm_gateway.gateway import Gateway

logger = logging.getLogger("llm_gateway.errors")

Handler = Callable[[Request, Exchange], Awaitable[ASGIApp]]


async def run_endpoint(
    gateway: Gateway, request: Request, shape: Shape, handler: Handler
) -> ASGIApp:
    """Check the client's key, run ``handler``, and answer any failure in ``shape``'s format.

    Whatever happens, the exchange is finished exactly once: by the response after its
    last byte, or here when there will be no response.

    This is where a request learns its client: the label of its key is set on
    ``exchange.client`` before ``handler`` runs, and stays ``(unauthenticated)`` when the
    key is refused (see :mod:`llm_gateway.auth`).
    """
    exchange = gateway.exchange(request, shape.api)
    try:
        exchange.client = gateway.api_keys.check(request.headers)
        return await handler(request, exchange)
    except GatewayError as error:
        exchange.error = error
        return JSONBytes(error_body(error, shape), error.status, exchange, error_headers(error))
    except ClientGone:
        exchange.finish(CLIENT_CLOSED)
        return JSONBytes(b"", CLIENT_CLOSED, exchange)
    except Exception:
        logger.exception("Internal error serving %s %s", request.method, request.url.path)
        exchange.error = GatewayError("internal", 500, "Internal gateway error")
        return JSONBytes(shape.error_body(exchange.error), 500, exchange)
    except BaseException:
        exchange.finish(CLIENT_CLOSED)
        raise
