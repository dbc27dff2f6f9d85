"""Warnings about a route's requests that are worth saying once, not once per request.

A client that sends the same thing every time (Codex offers ``web_search`` in every
request) would otherwise drown the log in one line per request. Each warning is said
once per process for its route and subject; the set that remembers them is bounded by
the routes times the tool types or parameter names clients send.
"""

from __future__ import annotations

import logging

from llm_gateway.apis import Api

logger = logging.getLogger("llm_gateway.translate")

_said: set[tuple[str, str, str]] = set()


def warn_dropped_tools(route: str, tools: tuple[str, ...]) -> None:
    """Hosted tools (``web_search`` and the like) run at OpenAI; an upstream reached by
    translation cannot run them, so they are left out of Responses requests."""
    for tool in tools:
        if _first_time("tool", route, tool):
            logger.warning(
                "route %s: dropping hosted tool %r from Responses requests, which this "
                "upstream cannot run (logged once)",
                route,
                tool,
            )


def warn_dropped_parameter(route: str, name: str, upstream: Api) -> None:
    """A parameter the upstream's API has no equivalent for, dropped by ``drop_unsupported``."""
    if _first_time("parameter", route, name):
        logger.warning(
            "route %s: dropping %r, which the %s API has no equivalent for "
            "(drop_unsupported = true; logged once)",
            route,
            name,
            upstream,
        )


def warn_dropped_thinking(route: str) -> None:
    """Reasoning asked for with a forced tool, which Anthropic refuses with thinking on."""
    if _first_time("thinking", route, "forced tool"):
        logger.warning(
            "route %s: sending no thinking with a forced tool_choice, which Anthropic "
            "allows only with tool_choice auto or none (logged once)",
            route,
        )


def _first_time(kind: str, route: str, subject: str) -> bool:
    key = (kind, route, subject)
    if key in _said:
        return False
    _said.add(key)
    return True
