"""Bounding text that came from a client before it is echoed anywhere.

A model name, or any string in a request, may be megabytes long. Written whole into every
log line, the dashboard and each error body, one request's worth of it would be copied
many times over: :func:`clip` keeps the start and says how much was left out.
"""

from __future__ import annotations

MAX_ECHO = 200
"""Characters of client text kept in log lines, the dashboard and error messages."""


def clip(text: str, limit: int = MAX_ECHO) -> str:
    """``text``, or its first ``limit`` characters and a marker saying how many were cut."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}...[{len(text) - limit} more characters]"
