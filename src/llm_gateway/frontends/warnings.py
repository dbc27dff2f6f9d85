"""Warnings about a route's requests that are worth saying once, not once per request."""

from __future__ import annotations

import logging

logger = logging.getLogger("llm_gateway.translate")

_said: set[tuple[str, str]] = set()


def warn_dropped_tools(route: str, tools: tuple[str, ...]) -> None:
    """Say, once per route and tool type, that a hosted tool was left out of requests.

    A hosted tool (``web_search`` and the like) runs at OpenAI; an upstream reached by
    translation cannot run it, so it is dropped. Clients such as Codex offer one in every
    request, so a line per request would drown the log. The set is bounded by the routes
    times the hosted tool types a client sends.
    """
    for tool in tools:
        if (route, tool) in _said:
            continue
        _said.add((route, tool))
        logger.warning(
            "route %r: hosted tool %r dropped from Responses requests; "
            "this upstream cannot run it (said once per route)",
            route,
            tool,
        )
