"""What the two wire-format modules share: the shape of a streamed reply."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from llm_gateway.sse import encode_event


@dataclass(frozen=True, slots=True)
class Stream:
    """A reply as SSE events, split where the tokens are so they can be paced.

    ``head`` comes before the first token, ``tokens`` holds one event per output token,
    and ``tail`` (the stop reason, usage and end marker) comes after the last.
    """

    head: tuple[bytes, ...]
    tokens: tuple[bytes, ...]
    tail: tuple[bytes, ...]

    @property
    def events(self) -> tuple[bytes, ...]:
        return self.head + self.tokens + self.tail


def sse(data: dict[str, Any], event: str | None = None) -> bytes:
    return encode_event(orjson.dumps(data), event)
