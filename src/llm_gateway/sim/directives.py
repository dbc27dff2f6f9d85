"""Directives: what a model id asks the simulator to do.

A simulator model id is a base name followed by directives, each introduced by ``+``:
``sim-fast+tokens=5+tps=100``. The base name is free; the directives are not, so a typo
is answered with a 400 instead of being silently ignored.
"""

from __future__ import annotations

from dataclasses import dataclass

from llm_gateway.errors import GatewayError, validation_error
from llm_gateway.untrusted import clip

# Directives that take no value, and those that take a whole number.
_FLAGS = ("reset", "garbage", "tool")
_NUMBERS = ("status", "delay", "stall", "tokens", "tps")

MAX_TOKENS = 100_000
"""The most ``+tokens`` may ask for: any client can name a directive, so it is bounded."""
MAX_WAIT_MS = 600_000
"""The most ``+delay`` and ``+stall`` may ask for (ten minutes, the default read timeout)."""
_LIMITS = {"tokens": MAX_TOKENS, "delay": MAX_WAIT_MS, "stall": MAX_WAIT_MS}


@dataclass(frozen=True, slots=True)
class Directives:
    status: int | None = None
    """Answer with this HTTP error status instead of a reply."""
    delay_ms: int = 0
    """Wait this long before the response headers."""
    stall_ms: int = 0
    """Pause this long half-way through the body or stream."""
    reset: bool = False
    """Drop the connection half-way through the body or stream."""
    garbage: bool = False
    """Cut the body, or the middle stream event, in half: no longer valid JSON."""
    tokens: int | None = None
    """Generate exactly this many output tokens (before ``max_tokens`` and stop sequences)."""
    tps: int | None = None
    """Output tokens per second; ``None`` sends every token at once."""
    tool: bool = False
    """Answer with a call to the first tool the request offers."""


def parse_directives(model: str) -> Directives:
    """Read the directives in ``model``; raise a ``validation`` error for any unknown or bad one."""
    _, *parts = model.split("+")
    values: dict[str, int | bool] = {}
    for part in parts:
        name, has_value, text = part.partition("=")
        if name in _FLAGS and not has_value:
            values[name] = True
        elif name in _NUMBERS and has_value:
            values[name] = _number(model, name, text)
        else:
            raise _bad_directive(model, f"unknown simulator directive {clip(part)!r}")
    for name, limit in _LIMITS.items():
        if values.get(name, 0) > limit:
            raise _bad_directive(model, f"simulator directive {name} must be at most {limit}")
    status = values.get("status")
    if status is not None and not 400 <= status <= 599:
        raise _bad_directive(model, f"simulator directive status={status} must be 400 to 599")
    if values.get("tps") == 0:
        raise _bad_directive(model, "simulator directive tps must be at least 1")
    return Directives(
        status=_optional(values, "status"),
        delay_ms=int(values.get("delay", 0)),
        stall_ms=int(values.get("stall", 0)),
        reset=bool(values.get("reset", False)),
        garbage=bool(values.get("garbage", False)),
        tokens=_optional(values, "tokens"),
        tps=_optional(values, "tps"),
        tool=bool(values.get("tool", False)),
    )


def _number(model: str, name: str, text: str) -> int:
    if not text.isascii() or not text.isdigit():
        raise _bad_directive(
            model, f"simulator directive {name}={clip(text)!r} needs a whole number"
        )
    digits = text.lstrip("0") or "0"
    # Longer is past every limit, and int() refuses past 4,300 digits anyway.
    return int(digits) if len(digits) <= 12 else 10**12


def _optional(values: dict[str, int | bool], name: str) -> int | None:
    value = values.get(name)
    return None if value is None else int(value)


def _bad_directive(model: str, problem: str) -> GatewayError:
    return validation_error(f"{problem} in model {clip(model)!r}", param="model")
