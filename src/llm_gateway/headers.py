"""Which HTTP headers cross the gateway, in each direction.

To the upstream go the client's headers that belong to the upstream's API, and nothing
about the hop itself:

- ``anthropic-*`` (``anthropic-version``, ``anthropic-beta``, ...) when the upstream speaks
  Anthropic Messages, ``openai-*`` (``openai-beta``, ``openai-organization``,
  ``openai-project``) when it speaks an OpenAI API, whatever the client's own
  API: an Anthropic beta has a meaning for an Anthropic upstream even when an OpenAI
  client asks for it, and none for an OpenAI upstream;
- ``x-stainless-*`` (the official SDKs' description of themselves) only when the client
  and the upstream speak APIs of one company, since it describes that company's SDK;
- any other ``x-*`` unless :data:`DENIED_X_HEADERS` names it or a prefix of it.

Everything else stays behind: the hop-by-hop headers and any named in ``Connection``,
``host``, ``content-length``, ``content-type`` and ``accept-encoding`` (the gateway sends
and decodes its own), and the client's ``authorization``/``x-api-key``, which the route's
key replaces. The providers add their own headers (the route's key, a default
``anthropic-version``) over these.

Back to the client go the upstream's response headers a client acts on
(:data:`RESPONSE_HEADERS` and the :data:`RESPONSE_PREFIXES` families: retry hints, request
ids, rate limits), on successes and errors, in every pairing: their names say which API
they come from, so they mean the same to either kind of client.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

from llm_gateway.apis import Api

NO_HEADERS: Mapping[str, str] = MappingProxyType({})

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
DENIED_X_HEADERS = (
    "x-api-key",  # the client's key to the gateway; the route's key replaces it
    "x-goog-api-key",  # another service's key
    "x-forwarded-",  # about the hop to the gateway, not the request
    "x-real-ip",
    "x-http-method-override",  # would make the upstream read the POST as another method
    "x-method-override",
)
_FAMILY_PREFIX: dict[Api, str] = {
    "anthropic": "anthropic-",
    "openai": "openai-",
    "responses": "openai-",  # one SDK and one company's headers for both OpenAI APIs
}

RESPONSE_HEADERS = frozenset(
    {"retry-after", "retry-after-ms", "x-should-retry", "request-id", "x-request-id"}
)
RESPONSE_PREFIXES = ("anthropic-ratelimit-", "x-ratelimit-")


def forwarded_request_headers(
    headers: Iterable[tuple[str, str]], client: Api, upstream: Api
) -> dict[str, str]:
    """The client's headers (lower-case names, as Starlette gives them) to send upstream.

    A name the client sent twice is sent once, its values joined with ", ".
    """
    pairs = list(headers)
    own_prefix = _FAMILY_PREFIX[upstream]
    same_sdk = own_prefix == _FAMILY_PREFIX[client]
    hop = set(HOP_BY_HOP)
    for name, value in pairs:
        if name == "connection":
            hop.update(token.strip().lower() for token in value.split(","))
    out: dict[str, str] = {}
    for name, value in pairs:
        if name in hop:
            continue
        if name.startswith(own_prefix) or (
            name.startswith("x-")
            and not name.startswith(DENIED_X_HEADERS)
            and (same_sdk or not name.startswith("x-stainless-"))
        ):
            out[name] = f"{out[name]}, {value}" if name in out else value
    return out


def returned_response_headers(headers: Mapping[str, str] | None) -> list[tuple[bytes, bytes]]:
    """The upstream's response headers the client gets back, as ASGI header pairs."""
    if not headers:
        return []
    out: list[tuple[bytes, bytes]] = []
    for name, value in headers.items():
        lower = name.lower()
        if lower in RESPONSE_HEADERS or lower.startswith(RESPONSE_PREFIXES):
            out.append((lower.encode("latin-1"), value.encode("latin-1")))
    return out
