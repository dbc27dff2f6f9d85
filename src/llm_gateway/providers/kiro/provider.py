"""The Kiro provider: Anthropic Messages in, Kiro's ``generateAssistantResponse`` upstream.

One request goes through four steps, each in its own module:

1. :mod:`.auth` supplies a fresh access token (from :mod:`.credentials`);
2. :mod:`.payload` turns the Anthropic request into Kiro's ``conversationState``;
3. this module POSTs it, refreshing once on 401/403 and backing off on 429/5xx;
4. :mod:`.eventstream` decodes the binary answer and :mod:`.translate` turns it into the
   Anthropic stream (or, for ``read()``, one Messages response).

Kiro reports no tokens, so usage figures are estimates (:mod:`.estimate`) and the reply
says so (``meta.tokens_estimated``); the credits it reports are summed into
``meta.credits``, complete once the reply has been read to the end.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from llm_gateway import __version__
from llm_gateway.apis import Api
from llm_gateway.config import ModelRoute
from llm_gateway.errors import GatewayError, validation_error
from llm_gateway.headers import NO_HEADERS
from llm_gateway.metrics.snapshot import Credits
from llm_gateway.providers.base import ReplyMeta
from llm_gateway.providers.http import (
    TRANSPORT_ERRORS,
    error_message,
    error_reason,
    read_error_body,
    redact,
    response_too_large,
    timeout_for,
    transport_error,
)
from llm_gateway.providers.kiro.auth import KiroAuth
from llm_gateway.providers.kiro.credentials import KiroToken, resolve_store
from llm_gateway.providers.kiro.eventstream import (
    MAX_FRAME_BYTES,
    FrameDecoder,
    FrameError,
    FrameTooLarge,
)
from llm_gateway.providers.kiro.payload import ToolNames, build_payload
from llm_gateway.providers.kiro.translate import AnswerBuilder, AnthropicEvent
from llm_gateway.providers.kiro.usage import (
    MAX_USAGE_BYTES,
    QUERY,
    default_usage_url,
    parse_usage,
)
from llm_gateway.sse import SSEEvent, encode_event
from llm_gateway.tokens import estimate_input_tokens

USER_AGENT = f"llm-gateway/{__version__}"
_TARGET = "AmazonCodeWhispererStreamingService.GenerateAssistantResponse"

logger = logging.getLogger("llm_gateway.kiro")


@dataclass(frozen=True)
class Backoff:
    """How 429 and 5xx answers are retried: ``retries`` more tries after the first.

    The n-th retry waits ``min(cap_s, base_s * 2**n)``, scaled by a random factor in
    [0.5, 1) so that clients throttled together do not come back together.
    """

    retries: int = 3
    base_s: float = 0.5
    cap_s: float = 8.0

    def delay(self, attempt: int, jitter: float) -> float:
        return min(self.cap_s, self.base_s * 2.0**attempt) * (0.5 + jitter / 2)


class KiroProvider:
    speaks: frozenset[Api] = frozenset({"anthropic"})

    def __init__(
        self,
        route: ModelRoute,
        session: aiohttp.ClientSession,
        *,
        backoff: Backoff = Backoff(),
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        jitter: Callable[[], float] = random.random,
        clock: Callable[[], float] = time.time,
        environ: Mapping[str, str] | None = None,
        home: Path | None = None,
    ) -> None:
        """``sleep``, ``jitter``, ``clock``, ``environ`` and ``home`` are for tests."""
        self._route = route
        self._session = session
        base = route.base_url or f"https://runtime.{route.region}.kiro.dev"
        self._url = base.rstrip("/") + "/generateAssistantResponse"
        self._usage_url = route.usage_url or default_usage_url(route.region)
        self._usage_timeout = timeout_for(route.connect_timeout, min(route.read_timeout, 30.0))
        self._clock = clock
        self._timeout = timeout_for(route.connect_timeout, route.read_timeout)
        self._backoff = backoff
        self._sleep = sleep
        self._jitter = jitter
        env = os.environ if environ is None else environ
        user_home = Path.home() if home is None else home
        self._auth = KiroAuth(
            lambda: resolve_store(route.credentials, env, user_home),
            session,
            region=route.region,
            refresh_url=route.refresh_url,
            timeout=self._timeout,
            user_agent=USER_AGENT,
            clock=clock,
        )

    async def send(
        self,
        api: Api,
        body: dict[str, Any],
        *,
        stream: bool,
        raw: bytes | None = None,
        headers: Mapping[str, str] = NO_HEADERS,
    ) -> KiroReply:
        # ``headers`` are an Anthropic client's; Kiro's API is AWS's and takes none of them.
        if api != "anthropic":
            raise GatewayError("internal", 500, "the Kiro provider speaks only Anthropic Messages")
        model_id = str(body.get("model") or self._route.model)
        token = await self._auth.token()
        tool_names = ToolNames()
        payload = build_payload(
            body,
            model_id=model_id,
            conversation_id=str(uuid.uuid4()),
            profile_arn=self._route.profile_arn or token.profile_arn,
            tool_names=tool_names,
        )
        response, token = await self._post(payload, token, model_id)
        max_tokens = body.get("max_tokens")
        builder = AnswerBuilder(
            message_id=f"msg_{uuid.uuid4().hex}",
            model=model_id,
            input_tokens=estimate_input_tokens(body),
            max_tokens=max_tokens if isinstance(max_tokens, int) and max_tokens > 0 else None,
            tool_names=tool_names,
        )
        return KiroReply(response, builder, _secrets(token), self._route.max_response_bytes)

    async def aclose(self) -> None:
        return None

    async def read_credits(self) -> Credits:
        """The account's credits from Kiro's usage API (see :mod:`.usage`).

        Like a request, it refreshes the token once if Kiro rejects it.
        """
        token = await self._auth.token()
        status, body = await self._get_usage(token)
        if status in (401, 403):
            token = await self._auth.refresh_after_rejection(token)
            status, body = await self._get_usage(token)
        if status >= 400:
            body = redact(body, _secrets(token))
            raise GatewayError("upstream", status, f"Kiro answered {error_message(body, status)}")
        try:
            return parse_usage(orjson.loads(body), self._clock())
        except ValueError as exc:  # orjson's decode error is one too
            raise GatewayError("upstream", 502, f"Kiro's usage answer: {exc}") from None

    async def _get_usage(self, token: KiroToken) -> tuple[int, bytes]:
        query = dict(QUERY)
        profile_arn = self._route.profile_arn or token.profile_arn
        if profile_arn:
            query["profileArn"] = profile_arn
        headers = {
            "Authorization": f"Bearer {token.access_token}",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }
        try:
            async with self._session.get(
                self._usage_url, params=query, headers=headers, timeout=self._usage_timeout
            ) as response:
                # Bounded: what is past the limit is cut, and the answer read as unknown.
                return response.status, await response.content.read(MAX_USAGE_BYTES)
        except TRANSPORT_ERRORS as exc:
            raise transport_error(exc) from exc

    async def _post(
        self, payload: bytes, token: KiroToken, model_id: str
    ) -> tuple[aiohttp.ClientResponse, KiroToken]:
        """Kiro's answer, and the token it took (refreshed once if the first was refused)."""
        refreshed = False
        attempt = 0
        while True:
            response = await self._request(payload, token)
            if response.status < 400:
                return response, token
            body = redact(await read_error_body(response), _secrets(token))
            status = response.status
            if status in (401, 403) and not refreshed:
                logger.info("Kiro refused the access token (%d); refreshing it", status)
                token = await self._auth.refresh_after_rejection(token)
                refreshed = True
            elif (status == 429 or status >= 500) and attempt < self._backoff.retries:
                delay = self._backoff.delay(attempt, self._jitter())
                attempt += 1
                logger.info(
                    "Kiro answered %d; retry %d/%d in %.2f s",
                    status,
                    attempt,
                    self._backoff.retries,
                    delay,
                )
                await self._sleep(delay)
            else:
                error = _answer_error(status, body, model_id)
                # Kept for a pool's retry policy: Retry-After, and the 402's reason.
                error.upstream_headers = response.headers
                error.upstream_body = body
                raise error

    async def _request(self, payload: bytes, token: KiroToken) -> aiohttp.ClientResponse:
        headers = {
            "Authorization": f"Bearer {token.access_token}",
            "Content-Type": "application/x-amz-json-1.0",
            "x-amz-target": _TARGET,
            "amz-sdk-invocation-id": str(uuid.uuid4()),
            "User-Agent": USER_AGENT,
        }
        try:
            return await self._session.post(
                self._url, data=payload, headers=headers, timeout=self._timeout
            )
        except TRANSPORT_ERRORS as exc:
            raise transport_error(exc) from exc


class KiroReply:
    """An :class:`~llm_gateway.providers.base.UpstreamReply` over Kiro's event stream.

    Bounded like an HTTP upstream's reply, by the route's ``max_response_bytes``: a whole
    answer (``read``) by the bytes Kiro sends for it, a stream by the size of one frame.
    Past the bound the answer is ``upstream response too large`` (502).
    """

    def __init__(
        self,
        response: aiohttp.ClientResponse,
        builder: AnswerBuilder,
        secrets: tuple[bytes, ...],
        max_bytes: int,
    ) -> None:
        self._response = response
        self._builder = builder
        self._max_bytes = max_bytes
        self.meta = ReplyMeta(tokens_estimated=True, secrets=secrets)
        self.headers: Mapping[str, str] = response.headers

    async def read(self) -> bytes:
        declared = self._response.content_length
        if declared is not None and declared > self._max_bytes:
            raise response_too_large(self._max_bytes)
        async for _ in self._answer(whole=True):
            pass
        return orjson.dumps(self._builder.message())

    async def events(self) -> AsyncIterator[SSEEvent]:
        for name, data in self._builder.start():
            yield _sse(name, data)
        async for name, data in self._answer(whole=False):
            yield _sse(name, data)

    async def aclose(self) -> None:
        # close(), not release(): an answer abandoned half-way must not go back to the pool.
        self._response.close()

    async def _answer(self, *, whole: bool) -> AsyncIterator[AnthropicEvent]:
        """The answer's events; ``whole``: all of it is kept, so all of it is bounded."""
        builder = self._builder
        limit = self._max_bytes
        decoder = FrameDecoder(min(limit, MAX_FRAME_BYTES))
        received = 0
        try:
            async for chunk in self._response.content.iter_any():
                received += len(chunk)
                if whole and received > limit:
                    raise response_too_large(limit)
                for frame in decoder.feed(chunk):
                    for event in builder.feed(frame):
                        yield event
                    self.meta.credits = builder.credits
                    if builder.truncated:
                        break
                if builder.truncated:
                    # The client's max_tokens is spent; what Kiro says next is not wanted.
                    self._response.close()
                    break
            else:
                decoder.end()
        except FrameError as exc:
            raise GatewayError("upstream", 502, f"Kiro sent a corrupted response: {exc}") from None
        except FrameTooLarge:
            raise response_too_large(limit) from None
        except TRANSPORT_ERRORS as exc:
            raise transport_error(exc) from exc
        if decoder.pending and not builder.truncated:
            raise GatewayError("upstream", 502, "Kiro's response ended in the middle of a frame")
        for event in builder.finish():
            yield event


def _secrets(token: KiroToken) -> tuple[bytes, ...]:
    """What an error Kiro sends must not echo: the access token it was sent."""
    return (token.access_token.encode(),) if token.access_token else ()


def _sse(name: str, data: dict[str, Any]) -> SSEEvent:
    encoded = orjson.dumps(data)
    return SSEEvent(raw=encode_event(encoded, name), event=name, data=encoded)


def _answer_error(status: int, body: bytes, model_id: str) -> GatewayError:
    """Classify a Kiro error answer (JSON ``{"message", "reason"}``) that is not retried."""
    message = error_message(body, status)
    reason = error_reason(body)
    if reason == "CONTENT_LENGTH_EXCEEDS_THRESHOLD":
        return validation_error(f"the conversation is too long for the Kiro model: {message}")
    if reason == "INVALID_MODEL_ID":
        return validation_error(f"Kiro does not offer model {model_id!r}: {message}", param="model")
    if status == 400:
        return validation_error(f"Kiro rejected the request: {message}")
    if status == 402:
        return GatewayError(
            "upstream", 402, f"Kiro quota exhausted ({reason or status}): {message}"
        )
    if status in (401, 403):
        return GatewayError(
            "upstream", 403, f"Kiro refused the credentials after a refresh: {message}"
        )
    return GatewayError("upstream", status, f"Kiro answered {status}: {message}")
