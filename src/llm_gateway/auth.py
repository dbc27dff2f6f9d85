"""Client API keys: ``Authorization: Bearer`` or ``x-api-key``, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

from starlette.datastructures import Headers

from llm_gateway.errors import GatewayError


def _digest(key: str) -> bytes:
    # Comparing fixed-size digests keeps the comparison's time independent of key length.
    return hashlib.sha256(key.encode()).digest()


class ApiKeys:
    def __init__(self, keys: Iterable[str]) -> None:
        self._digests = [_digest(k) for k in keys]

    @property
    def enabled(self) -> bool:
        return bool(self._digests)

    def check(self, headers: Headers) -> None:
        """Raise an ``auth`` error unless no keys are configured or a valid one was sent."""
        if not self._digests:
            return
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
        matched = False
        for known in self._digests:
            matched |= hmac.compare_digest(known, digest)
        if not matched:
            raise GatewayError("auth", 401, "Invalid API key")
