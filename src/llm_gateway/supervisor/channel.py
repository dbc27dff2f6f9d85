"""The wire between the supervisor and one worker: length-prefixed frames on a socketpair.

Supervisor to worker, one frame: the pickled :class:`WorkerSetup` (pickle, because it is
our own dataclass crossing to our own child, and it keeps every config field without a
second schema). Worker to supervisor: orjson frames, a :data:`READY` once it serves, then
a report every 250 ms and a last one as it exits. The supervisor closing its end means
"stop"; a supervisor that dies closes it too, so both reach the worker the same way.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from llm_gateway.config import GatewayConfig
from llm_gateway.metrics.interval import Interval
from llm_gateway.metrics.log_text import LogEntry
from llm_gateway.metrics.snapshot import LogLine

_HEADER = struct.Struct("!I")

READY = b'{"ready":true}'


@dataclass(frozen=True)
class WorkerSetup:
    index: int
    """1-based; 0 is the supervisor in log lines."""
    config: GatewayConfig
    log_level: int
    grace_period_s: float
    report_interval_s: float = 0.25


@dataclass(frozen=True)
class Report:
    interval: Interval
    logs: list[LogEntry]


def write_frame(writer: asyncio.StreamWriter, payload: bytes) -> None:
    writer.write(_HEADER.pack(len(payload)) + payload)


async def read_frame(reader: asyncio.StreamReader) -> bytes | None:
    """The next frame's payload, or ``None`` once the other side has closed.

    A process that exits with data unread in its socket resets the connection rather
    than closing it; that too is the other side gone.
    """
    try:
        header = await reader.readexactly(_HEADER.size)
        return await reader.readexactly(_HEADER.unpack(header)[0])
    except (asyncio.IncompleteReadError, ConnectionError):
        return None


def encode_report(interval: Interval, logs: Sequence[LogEntry]) -> bytes:
    """Access lines, the many, travel as the text they will print; the few others as objects."""
    return orjson.dumps(
        {
            "metrics": interval.to_wire(),
            "logs": [
                {
                    "time": entry.time,
                    "level": entry.level,
                    "logger": entry.logger,
                    "message": entry.message,
                }
                if isinstance(entry, LogLine)
                else entry
                for entry in logs
            ],
        }
    )


def decode_report(payload: bytes, worker: int) -> Report | None:
    """A report, or ``None`` for the :data:`READY` frame."""
    data: dict[str, Any] = orjson.loads(payload)
    if "ready" in data:
        return None
    logs: list[LogEntry] = [
        entry if isinstance(entry, str) else LogLine(worker=worker, **entry)
        for entry in data["logs"]
    ]
    return Report(Interval.from_wire(data["metrics"]), logs)
