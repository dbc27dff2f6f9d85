from __future__ import annotations

import orjson

from llm_gateway.untrusted import MAX_ECHO, MAX_JSON_DEPTH, clip, too_deep


def nested(levels: int) -> bytes:
    """A JSON object whose arrays take it to ``levels`` levels in all."""
    inner = levels - 1
    return b'{"a":' + b"[" * inner + b"]" * inner + b"}"


def test_short_text_is_kept_whole() -> None:
    assert clip("gpt-4o") == "gpt-4o"
    assert clip("x" * MAX_ECHO) == "x" * MAX_ECHO


def test_long_text_is_cut_with_a_marker() -> None:
    assert clip("x" * 1_000_000) == "x" * MAX_ECHO + f"...[{1_000_000 - MAX_ECHO} more characters]"


def test_depth_up_to_the_limit_is_allowed() -> None:
    raw = nested(MAX_JSON_DEPTH)
    assert not too_deep(raw, orjson.loads(raw))


def test_one_level_more_is_too_deep() -> None:
    raw = nested(MAX_JSON_DEPTH + 1)
    assert too_deep(raw, orjson.loads(raw))


def test_many_brackets_side_by_side_are_not_depth() -> None:
    raw = orjson.dumps({"a": [[] for _ in range(5000)], "b": "[[[[[[" * 100})
    assert not too_deep(raw, orjson.loads(raw))
