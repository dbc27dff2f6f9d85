"""Client connections as a worker's protocol sees them: open now, closed for slowness, refused.

:class:`ConnectionCounter` is the sink :mod:`llm_gateway.guard` counts into, on the serving
loop, O(1) per event; the worker's recorder takes its :class:`ConnectionCounts` with every
interval, and the supervisor adds them up for the dashboard's Connections panel.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class ConnectionCounts:
    open: int = 0
    """Open client connections when the interval was taken (idle kept-alive ones too)."""
    closed_slow: int = 0
    """Closed during the interval for sending headers or a body too slowly."""
    refused: int = 0
    """Refused during the interval because the worker was at its connection cap."""

    def to_wire(self) -> list[int]:
        return [self.open, self.closed_slow, self.refused]

    @classmethod
    def from_wire(cls, data: list[int]) -> ConnectionCounts:
        return cls(*data)


class ConnectionCounter:
    __slots__ = ("_closed_slow", "_open", "_refused")

    def __init__(self) -> None:
        self._open = 0
        self._closed_slow = 0
        self._refused = 0

    def connection_opened(self) -> None:
        self._open += 1

    def connection_closed(self) -> None:
        self._open -= 1

    def closed_for_slowness(self) -> None:
        self._closed_slow += 1

    def refused_at_cap(self) -> None:
        self._refused += 1

    def take(self) -> ConnectionCounts:
        """The counts since the last take (the open count carries on)."""
        counts = ConnectionCounts(self._open, self._closed_slow, self._refused)
        self._closed_slow = self._refused = 0
        return counts
