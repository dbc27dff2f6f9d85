"""The contract between the front-ends and every upstream provider.

A provider *speaks* one or both API shapes (``"openai"``, ``"anthropic"``). The front-end
hands it a request already in a shape it speaks, with the upstream model id filled in,
and gets back an :class:`UpstreamReply` in the same shape. Translation between shapes
happens before and after, never inside a provider, so each provider is one idea: how to
talk to one kind of upstream.

A provider raises :class:`~llm_gateway.errors.GatewayError` for every failure, already
classified (``upstream`` for a 4xx/5xx or a broken connection, ``timeout`` for silence,
``validation`` where the upstream says the request itself is bad). A reply that reaches
the caller is a success; errors found mid-stream are raised from :meth:`events`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from llm_gateway.apis import Api
from llm_gateway.headers import NO_HEADERS
from llm_gateway.metrics.snapshot import Credits
from llm_gateway.sse import SSEEvent


@dataclass(slots=True)
class ReplyMeta:
    """What a provider knows about a reply beyond its API shape.

    ``tokens_estimated`` is set by upstreams that report no token counts (Kiro), whose
    usage figures are our own estimates; ``credits`` is what such an upstream bills in
    its own unit, never to be confused with tokens. ``secrets`` are the credentials the
    request carried, for :func:`~llm_gateway.providers.http.redact_error` to take out of
    an error the upstream sends inside its answer.
    """

    tokens_estimated: bool = False
    credits: float | None = None
    secrets: tuple[bytes, ...] = field(default=(), repr=False)


class UpstreamReply(Protocol):
    """A successful upstream answer, read either whole or as SSE events, then closed.

    ``headers`` are the upstream's response headers, all of them (empty for an upstream
    that is not HTTP); :mod:`llm_gateway.headers` picks those the client gets back.
    """

    meta: ReplyMeta
    headers: Mapping[str, str]

    async def read(self) -> bytes:
        """The whole (non-streaming) response body."""
        ...

    def events(self) -> AsyncIterator[SSEEvent]:
        """The streaming response, one SSE event at a time, original bytes kept."""
        ...

    async def aclose(self) -> None:
        """Release the upstream connection; safe to call twice and after a failure."""
        ...


class Provider(Protocol):
    speaks: frozenset[Api]

    async def send(
        self,
        api: Api,
        body: dict[str, Any],
        *,
        stream: bool,
        raw: bytes | None = None,
        headers: Mapping[str, str] = NO_HEADERS,
    ) -> UpstreamReply:
        """Send ``body`` (in shape ``api``) upstream.

        ``raw``, when given, is ``body`` already serialised; pass-through requests hand it
        over so the provider sends the client's bytes without re-encoding them.
        ``headers`` are the client's headers meant for an ``api`` upstream (lower-case
        names, chosen by :func:`llm_gateway.headers.forwarded_request_headers`); an HTTP
        provider sends them under its own (the route's key wins), others ignore them.
        An upstream's own error answer raises with its status, headers and body, and
        ``upstream_api`` set when the body is in an API's shape.
        """
        ...

    async def aclose(self) -> None: ...


@dataclass(frozen=True, slots=True)
class TokenCount:
    """An upstream's answer to ``count_tokens``: the count, the body and headers it came in."""

    input_tokens: int
    body: bytes
    headers: Mapping[str, str]


@runtime_checkable
class CountsTokens(Protocol):
    """A provider whose upstream can count a request's input tokens itself (in Anthropic's
    shape; ``headers`` as for :meth:`Provider.send`)."""

    async def count_tokens(
        self, body: dict[str, Any], headers: Mapping[str, str] = NO_HEADERS
    ) -> TokenCount: ...


@runtime_checkable
class ReadsCredits(Protocol):
    """A provider whose account has credits to read (Kiro), off the request path."""

    async def read_credits(self) -> Credits: ...
