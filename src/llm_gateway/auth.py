"""Client API keys: ``Authorization: Bearer`` or ``x-api-key``, compared in constant time.

Checking a key answers who the client is: the label of the key it sent (a ``[[keys]]``
label, or ``key-…a1b2`` for an unnamed key, see :class:`~llm_gateway.config.ClientKey`).
Two labels are the gateway's own, in parentheses so that no configured label can be
mistaken for them: :data:`OPEN` when no keys are configured and anyone may call, and
:data:`UNAUTHENTICATED` for a request refused for its key.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

from starlette.datastructures import Headers

from llm_gateway.config import ClientKey
from llm_gateway.errors import GatewayError

OPEN = "(open)"
"""The client of every request when no keys are configured: the gateway is open to anyone."""
UNAUTHENTICATED = "(unauthenticated)"
"""The client of a request refused for its key (none sent, or not a configured one)."""


def _digest(key: str) -> bytes:
    # Comparing fixed-size digests keeps the comparison's time independent of key length.
    return hashlib.sha256(key.encode()).digest()


class ApiKeys:
    def __init__(self, keys: Iterable[ClientKey]) -> None:
        self._digests = [(_digest(k.key), k.label) for k in keys]

    @property
    def enabled(self) -> bool:
        return bool(self._digests)

    def check(self, headers: Headers) -> str:
        """The label of the client's key, or :data:`OPEN` when no keys are configured.

        Raises an ``auth`` error when keys are configured and none of them was sent. The
        error never repeats the key that was sent.
        """
        if not self._digests:
            return OPEN
        # An empty x-api-key (some clients send one) must not hide a Bearer key.
        presented = headers.get("x-api-key", "").strip()
        if not presented:
            scheme, _, token = headers.get("authorization", "").partition(" ")
            if scheme.lower() == "bearer":
                presented = token.strip()
        if not presented:
            raise GatewayError(
                "auth",
                401,
                "Missing API key: send 'Authorization: Bearer <key>' or 'x-api-key: <key>'",
            )
        digest = _digest(presented)
        client = None
        # Every digest is compared, whichever matches, so the time taken does not tell
        # how close the key came to any of them.
        for known, label in self._digests:
            if hmac.compare_digest(known, digest):
                client = label
        if client is None:
            raise GatewayError("auth", 401, "Invalid API key")
        return client
