"""HTTP plumbing shared by the providers that talk to a real upstream over aiohttp.

One idea lives here: turning aiohttp's many exceptions into the gateway's few error
classes, so that "connection refused", "reset mid-body" and "silent for too long" read
the same whichever provider hit them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any

import aiohttp
import orjson

from llm_gateway.apis import Api
from llm_gateway.config import ModelRoute
from llm_gateway.errors import GatewayError
from llm_gateway.headers import NO_HEADERS
from llm_gateway.providers.base import ReplyMeta
from llm_gateway.sse import EventTooLarge, SSEEvent, SSEParser
from llm_gateway.untrusted import kept_of_clipped

# An error body can be large (an HTML page from a proxy); the client only needs the gist.
_MAX_ERROR_MESSAGE = 1000
MAX_ERROR_BODY = 1024 * 1024
"""The most of an upstream's error answer that is read; a longer one is a 502."""


def timeout_for(connect_s: float, read_s: float) -> aiohttp.ClientTimeout:
    """Per-phase timeouts: no total, because a long stream is fine while bytes keep coming."""
    return aiohttp.ClientTimeout(total=None, sock_connect=connect_s, sock_read=read_s)


def transport_error(exc: BaseException) -> GatewayError:
    """Classify a failure to talk to the upstream (not an answer from it)."""
    if isinstance(exc, aiohttp.ServerTimeoutError | asyncio.TimeoutError | TimeoutError):
        return GatewayError("timeout", 504, "upstream timed out")
    if isinstance(exc, aiohttp.ClientConnectorError):
        return GatewayError("upstream", 502, f"cannot connect to upstream: {exc.strerror or exc}")
    if isinstance(
        exc, aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError | ConnectionError
    ):
        return GatewayError("upstream", 502, "upstream connection reset")
    if isinstance(exc, aiohttp.ClientOSError):
        return GatewayError("upstream", 502, f"upstream connection failed: {exc.strerror or exc}")
    return GatewayError("upstream", 502, f"upstream request failed: {type(exc).__name__}")


TRANSPORT_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError, TimeoutError, ConnectionError)


def error_message(body: bytes, status: int) -> str:
    """The human message inside an upstream error body, whatever API shape it uses."""
    try:
        data: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        text = body.decode("utf-8", "replace").strip()
        return text[:_MAX_ERROR_MESSAGE] or f"upstream answered {status}"
    if isinstance(data, dict):
        inner = data.get("error")
        if isinstance(inner, dict) and isinstance(inner.get("message"), str):
            return str(inner["message"])[:_MAX_ERROR_MESSAGE]
        if isinstance(inner, str):
            return inner[:_MAX_ERROR_MESSAGE]
        if isinstance(data.get("message"), str):
            return str(data["message"])[:_MAX_ERROR_MESSAGE]
    return f"upstream answered {status}"


def error_reason(body: bytes) -> str:
    """The machine-readable ``reason`` of an error body (as Kiro sends), or ``""``."""
    try:
        data: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        return ""
    reason = data.get("reason") if isinstance(data, dict) else None
    return reason if isinstance(reason, str) else ""


async def post(
    session: aiohttp.ClientSession,
    url: str,
    data: bytes,
    headers: Mapping[str, str],
    timeouts: aiohttp.ClientTimeout,
    api: Api,
) -> aiohttp.ClientResponse:
    """POST and return the response once its headers arrive; a 4xx/5xx raises ``upstream``.

    ``api`` is the shape the upstream answers in, errors included.
    """
    try:
        response = await session.post(url, data=data, headers=headers, timeout=timeouts)
    except TRANSPORT_ERRORS as exc:
        raise transport_error(exc) from exc
    if response.status >= 400:
        # Some upstreams quote the key they were sent; it must reach neither client nor log.
        body = redact(await read_error_body(response), credentials(headers))
        raise GatewayError(
            "upstream",
            response.status,
            error_message(body, response.status),
            upstream_headers=response.headers,
            upstream_body=body,
            upstream_api=api,
        )
    return response


_CREDENTIAL_HEADERS = ("authorization", "x-api-key")
REDACTED = b"[redacted]"


def credentials(headers: Mapping[str, str]) -> tuple[bytes, ...]:
    """The credentials among request ``headers``, as an upstream could quote them back."""
    secrets = (
        value.removeprefix("Bearer ").strip().encode()
        for name, value in headers.items()
        if name.lower() in _CREDENTIAL_HEADERS
    )
    return tuple(secret for secret in secrets if secret)


def redact(text: bytes, secrets: Iterable[bytes]) -> bytes:
    """``text`` with each of ``secrets`` (see :func:`credentials`) replaced by ``[redacted]``."""
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    return text


def redact_error(error: GatewayError, secrets: Iterable[bytes]) -> GatewayError:
    """``error`` with ``secrets`` gone from the upstream text it echoes (body and message).

    An error event mid-stream or a 200 whose body is an error is found after the answer
    began, by the relay or the front-end; this is where they lose the key, as an error
    status loses it in :func:`post`.
    """
    secrets = tuple(secrets)
    if error.upstream_body is not None:
        error.upstream_body = redact(error.upstream_body, secrets)
    message = _without_cut_secret(redact(error.message.encode(), secrets).decode(), secrets)
    if message != error.message:
        error.message = message
        error.args = (message,)
    return error


MIN_CUT_SECRET = 4
"""The shortest beginning of a secret that :func:`redact_error` takes for a cut secret."""


def _without_cut_secret(message: str, secrets: tuple[bytes, ...]) -> str:
    # A GatewayError cuts its message to its length (untrusted.clip) when it is made, and
    # a secret across the cut left its beginning just before the marker, where no whole
    # match finds it.
    kept, marker = kept_of_clipped(message)
    if not marker:
        return message
    for secret in secrets:
        text = secret.decode(errors="replace")
        for length in range(len(text) - 1, MIN_CUT_SECRET - 1, -1):
            if kept.endswith(text[:length]):
                return f"{kept[:-length]}{REDACTED.decode()}{marker}"
    return message


async def read_error_body(response: aiohttp.ClientResponse) -> bytes:
    """An error answer's whole body (at most :data:`MAX_ERROR_BODY`); its connection is
    released either way."""
    try:
        return await read_bounded(response, MAX_ERROR_BODY)
    finally:
        response.release()


async def read_bounded(response: aiohttp.ClientResponse, limit: int) -> bytes:
    """The whole body, or ``upstream response too large`` (502) past ``limit`` bytes.

    At most ``limit`` bytes and one chunk are ever held, whatever the upstream sends or
    announces; the caller closes the response.
    """
    declared = response.content_length
    if declared is not None and declared > limit:
        raise response_too_large(limit)
    body = bytearray()
    try:
        async for chunk in response.content.iter_any():
            body += chunk
            if len(body) > limit:
                raise response_too_large(limit)
    except TRANSPORT_ERRORS as exc:
        raise transport_error(exc) from exc
    return bytes(body)


def response_too_large(limit: int) -> GatewayError:
    return GatewayError(
        "upstream", 502, f"upstream response too large (the limit is {limit} bytes)"
    )


class HTTPReply:
    """An :class:`~llm_gateway.providers.base.UpstreamReply` over an aiohttp response."""

    def __init__(
        self, response: aiohttp.ClientResponse, max_bytes: int, secrets: tuple[bytes, ...] = ()
    ) -> None:
        self._response = response
        self._max_bytes = max_bytes
        """A non-streamed body's limit, and one stream event's."""
        self.meta = ReplyMeta(secrets=secrets)
        self.headers: Mapping[str, str] = response.headers

    async def read(self) -> bytes:
        return await read_bounded(self._response, self._max_bytes)

    async def events(self) -> AsyncIterator[SSEEvent]:
        parser = SSEParser(self._max_bytes)
        content = self._response.content
        stall = StallWatch.take_over(self._response)
        try:
            # readany() rather than iter_any(): one layer less between socket and client.
            while chunk := await content.readany():
                if stall is not None:
                    stall.last_read = stall.now()
                for event in parser.feed(chunk):
                    yield event
        except TRANSPORT_ERRORS as exc:
            raise transport_error(exc) from exc
        except EventTooLarge:
            raise response_too_large(self._max_bytes) from None
        finally:
            if stall is not None:
                stall.stop()
        if parser.pending.strip():
            raise GatewayError("upstream", 502, "upstream stream ended inside an event")

    async def aclose(self) -> None:
        # close(), not release(): a stream abandoned half-way must not go back to the pool.
        self._response.close()


class StallWatch:
    """A stream's read timeout (``sock_read``), at no cost per chunk.

    aiohttp enforces ``sock_read`` by cancelling and re-arming a timer on every read from
    the socket: a timer per relayed chunk, a measurable part of its cost. Once a stream's
    headers are in, :meth:`take_over` turns that off for the rest of the response, and
    the reader notes the time of each read instead (:attr:`last_read`). One timer, set
    for when the silence after a read would reach the timeout, checks when it fires
    whether a read came since: if none did, the read fails as aiohttp's own timeout would
    make it; otherwise it sets itself for the latest read's deadline.
    """

    def __init__(self, content: aiohttp.StreamReader, timeout: float) -> None:
        loop = asyncio.get_running_loop()
        self.now = loop.time
        self.last_read = loop.time()
        self._loop = loop
        self._content = content
        self._timeout = timeout
        self._timer: asyncio.TimerHandle | None = None
        self._set_for = 0.0
        self._set()

    @classmethod
    def take_over(cls, response: aiohttp.ClientResponse) -> StallWatch | None:
        """Watch ``response``'s body instead of aiohttp; ``None`` if there is nothing to
        watch (no read timeout, or the body is already whole)."""
        connection = response.connection
        protocol = connection.protocol if connection is not None else None
        if protocol is None or not protocol.read_timeout:
            return None
        timeout = protocol.read_timeout
        # aiohttp stops re-arming its timer at the next read; the one set now is dropped there.
        protocol.read_timeout = None
        return cls(response.content, timeout)

    def _set(self) -> None:
        self._set_for = self.last_read
        self._timer = self._loop.call_at(self.last_read + self._timeout, self._check)

    def _check(self) -> None:
        if self.last_read == self._set_for:
            self._timer = None
            self._content.set_exception(
                aiohttp.SocketTimeoutError("Timeout on reading data from socket")
            )
        else:
            self._set()

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


class JSONPostProvider:
    """A provider that POSTs the request body, unchanged, to one upstream URL.

    Subclasses only say where and with which headers (lower-case names); sending,
    timeouts and error classification are the same for every plain HTTP upstream. The
    client's forwarded headers go over ``defaults`` (a client's ``anthropic-version``
    wins) and under ``headers`` (the route's key wins).
    """

    speaks: frozenset[Api]

    def __init__(
        self,
        session: aiohttp.ClientSession,
        url: str,
        headers: dict[str, str],
        route: ModelRoute,
        *,
        defaults: Mapping[str, str] = NO_HEADERS,
    ) -> None:
        self._session = session
        self._url = url
        self._headers = {**defaults, **headers}
        self._defaults = defaults
        self._own = headers
        # Only the provider's own headers hold a key: a client's are never forwarded.
        self._secrets = credentials(headers)
        self._timeout = timeout_for(route.connect_timeout, route.read_timeout)
        self._max_response_bytes = route.max_response_bytes

    async def send(
        self,
        api: Api,
        body: dict[str, Any],
        *,
        stream: bool,
        raw: bytes | None = None,
        headers: Mapping[str, str] = NO_HEADERS,
    ) -> HTTPReply:
        data = raw if raw is not None else orjson.dumps(body)
        response = await post(
            self._session, self.url_for(api), data, self._with(headers), self._timeout, api
        )
        return HTTPReply(response, self._max_response_bytes, self._secrets)

    def url_for(self, api: Api) -> str:
        """Where requests in shape ``api`` go; one URL unless a subclass speaks two shapes."""
        return self._url

    def _with(self, forwarded: Mapping[str, str]) -> Mapping[str, str]:
        """The headers of one request: the client's forwarded ones among the provider's."""
        if not forwarded:
            return self._headers
        return {**self._defaults, **forwarded, **self._own}

    async def aclose(self) -> None:
        return None
