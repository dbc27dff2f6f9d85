"""Bounding text that came from a client before it is echoed anywhere.

A model name, or any string in a request, may be megabytes long. Written whole into every
log line, the dashboard and each error body, one request's worth of it would be copied
many times over: :func:`clip` keeps the start and says how much was left out.
"""

from __future__ import annotations

from collections.abc import Iterable

MAX_ECHO = 200
"""Characters of client text kept in log lines, the dashboard and error messages."""


# clip's marker, "...[N more characters]", in its two parts: kept_of_clipped reads it back.
_CUT, _MORE = "...[", " more characters]"


def clip(text: str, limit: int = MAX_ECHO) -> str:
    """``text``, or its first ``limit`` characters and a marker saying how many were cut."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}{_CUT}{len(text) - limit}{_MORE}"


def kept_of_clipped(text: str) -> tuple[str, str]:
    """What :func:`clip` kept of ``text`` and the marker it added (``""`` if none)."""
    kept, cut, rest = text.rpartition(_CUT)
    if cut and rest.endswith(_MORE) and rest.removesuffix(_MORE).isdigit():
        return kept, cut + rest
    return text, ""


MAX_JSON_DEPTH = 100
"""How deeply a request body's arrays and objects may nest.

orjson parses 1,024 levels but encodes only about 250, and a body is encoded again on its
way upstream; a limit well under both means no valid request fails later for its depth.
"""


def too_deep(raw: bytes, parsed: object, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether ``parsed`` (the JSON text ``raw``) nests arrays and objects past ``limit``."""
    # Counting brackets is C-fast; only a body with more than ``limit`` of them (brackets
    # in strings included) can be too deep, so only those are walked.
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    return _deeper_than(parsed, limit)


def _deeper_than(value: object, levels: int) -> bool:
    if isinstance(value, dict):
        children: Iterable[object] = value.values()
    elif isinstance(value, list):
        children = value
    else:
        return False
    if levels == 0:
        return True
    return any(
        _deeper_than(child, levels - 1) for child in children if isinstance(child, dict | list)
    )
