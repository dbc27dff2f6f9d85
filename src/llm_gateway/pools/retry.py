"""The retry policy: which failed attempts go to another upstream, and how long one rests.

The pipeline only retries a failure to *start* an answer (``Provider.send``), so nothing
has reached the client yet; this module decides the rest. A failure that is the
upstream's trouble (it is down, overloaded, out of quota, or refuses our credentials even
after a refresh) is worth another upstream, and the one that failed sits out a while. A
failure that is the client's (400, 404, 413, 422...) would fail anywhere: it is passed on.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Literal

from llm_gateway.errors import CredentialsRefused, GatewayError
from llm_gateway.providers.http import error_reason

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504, 529})
"""Rate limits, server errors, and what a connect error or a timeout before the headers
becomes (502, 504)."""
AUTH_STATUSES = frozenset({401, 403})
"""Only ever seen here after the provider's own refresh, if it has one, did not help; a
refresh that fails is a :class:`~llm_gateway.errors.CredentialsRefused`."""
QUOTA_REASON = "MONTHLY_REQUEST_COUNT"
"""Kiro's 402 ``reason`` for an account whose monthly credits are spent."""
MAX_RETRY_AFTER_S = 600.0
"""An upstream's ``Retry-After`` is honoured up to 10 minutes."""

Rest = Literal["cooling", "quota", "auth"]
"""Why an upstream sits out: it failed, its quota is spent, or its credentials are refused."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """A failure worth another upstream, and why the one that failed rests."""

    rest: Rest
    retry_after_s: float | None = None
    """What the upstream asked for (``Retry-After``, capped); ``None`` when it did not say."""


def judge(error: GatewayError, now: float) -> Verdict | None:
    """The verdict on a failed attempt, or ``None`` when the error goes to the client as it is.

    ``now`` is the wall-clock time, for a ``Retry-After`` given as a date.
    """
    if error.error_type not in ("upstream", "timeout"):
        return None
    status = error.status
    if isinstance(error, CredentialsRefused):
        return Verdict("auth")
    if status in RETRY_STATUSES:
        return Verdict("cooling", retry_after(error.upstream_headers, now))
    if status in AUTH_STATUSES:
        return Verdict("auth")
    if status == 402 and error_reason(error.upstream_body or b"") == QUOTA_REASON:
        return Verdict("quota")
    return None


def retry_after(headers: Mapping[str, str] | None, now: float) -> float | None:
    """Seconds from a ``Retry-After`` header (a number or an HTTP date), within 0 to 10 min."""
    value = headers.get("retry-after") if headers is not None else None
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - now
        except (TypeError, ValueError):
            return None
    if not math.isfinite(seconds):
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)
