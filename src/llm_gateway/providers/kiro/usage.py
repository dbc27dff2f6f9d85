"""A Kiro account's credits, read from Kiro's usage API.

``GET https://q.{region}.amazonaws.com/getUsageLimits?origin=AI_EDITOR&resourceType=AGENTIC_REQUEST``
(plus ``&profileArn=...`` when the account has one), with the account's bearer token. The
answer, as far as it is read here::

    {"usageBreakdownList": [{"resourceType": "CREDIT",
                             "currentUsageWithPrecision": 250.5,
                             "usageLimitWithPrecision": 1000.0,
                             "nextDateReset": 1764547200,
                             "freeTrialInfo": {"currentUsageWithPrecision": 0.0,
                                               "usageLimitWithPrecision": 500.0}}],
     "nextDateReset": 1764547200, "daysUntilReset": 3,
     "subscriptionInfo": {"subscriptionTitle": "KIRO PRO"},
     "userInfo": {"email": "..."}}

Free-trial credits count with the plan's. ``userInfo`` (the account's e-mail address) is
never read, kept, logged or shown.
"""

from __future__ import annotations

from typing import Any

from llm_gateway.metrics.snapshot import Credits
from llm_gateway.untrusted import clip

QUERY = {"origin": "AI_EDITOR", "resourceType": "AGENTIC_REQUEST"}
MAX_USAGE_BYTES = 256 * 1024
MAX_PLAN = 40
"""The plan's name is upstream text, shown on the dashboard: kept short."""


def default_usage_url(region: str) -> str:
    return f"https://q.{region}.amazonaws.com/getUsageLimits"


def parse_usage(data: Any, now: float) -> Credits:
    """The credits in a ``getUsageLimits`` answer; ``ValueError`` if it has none.

    ``now`` (wall clock) places a reset given only as ``daysUntilReset``.
    """
    if not isinstance(data, dict):
        raise ValueError("the usage answer is not a JSON object")
    items = [
        item
        for item in data.get("usageBreakdownList") or ()
        if isinstance(item, dict) and item.get("resourceType") == "CREDIT"
    ]
    if not items:
        raise ValueError("the usage answer has no credit figures")
    used = limit = 0.0
    resets_at = _number(data.get("nextDateReset"))
    trials = [item.get("freeTrialInfo") for item in items]
    if not any(trials):
        trials = [data.get("freeTrialInfo")]
    for part in [*items, *trials]:
        if isinstance(part, dict):
            used += _number(part.get("currentUsageWithPrecision")) or 0.0
            limit += _number(part.get("usageLimitWithPrecision")) or 0.0
    for item in items:
        resets_at = resets_at or _number(item.get("nextDateReset"))
    days = _number(data.get("daysUntilReset"))
    if resets_at is None and days is not None:
        resets_at = now + days * 86400.0
    subscription = data.get("subscriptionInfo")
    plan = subscription.get("subscriptionTitle") if isinstance(subscription, dict) else None
    return Credits(
        used=used,
        limit=limit,
        resets_at=resets_at,
        plan=clip(plan, MAX_PLAN) if isinstance(plan, str) else "",
    )


def _number(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None
