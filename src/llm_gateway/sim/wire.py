"""What the two wire-format modules share: the shape of a streamed reply."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, overload

import orjson

from llm_gateway.sse import encode_event

T = TypeVar("T")
U = TypeVar("U")


class Lazy(Sequence[U]):
    """``make`` applied to each of ``items``, computed when read rather than up front.

    A reply of 100,000 tokens is as many events, tens of megabytes once encoded: made one
    at a time as they are sent, they cost neither that memory nor a long pause of the loop.
    """

    __slots__ = ("_items", "_make")

    def __init__(self, items: Sequence[T], make: Callable[[T], U]) -> None:
        self._items = items
        self._make: Callable[[Any], U] = make

    def __len__(self) -> int:
        return len(self._items)

    @overload
    def __getitem__(self, index: int) -> U: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[U]: ...
    def __getitem__(self, index: int | slice) -> U | Sequence[U]:
        if isinstance(index, slice):
            return Lazy(self._items[index], self._make)
        return self._make(self._items[index])

    def __iter__(self) -> Iterator[U]:
        return map(self._make, self._items)


@dataclass(frozen=True, slots=True)
class Stream:
    """A reply as SSE events, split where the tokens are so they can be paced.

    ``head`` comes before the first token, ``tokens`` holds one event per output token,
    and ``tail`` (the stop reason, usage and end marker) comes after the last.
    """

    head: tuple[bytes, ...]
    tokens: Sequence[bytes]
    """Made as they are read (see :class:`Lazy`)."""
    tail: tuple[bytes, ...]


def sse(data: dict[str, Any], event: str | None = None) -> bytes:
    return encode_event(orjson.dumps(data), event)
