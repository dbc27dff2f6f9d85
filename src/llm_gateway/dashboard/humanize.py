"""Numbers for people: ``1.2k``, ``3.4 MB``, ``250 ms``, ``12.5%``.

Every figure on the dashboard goes through one of these, so the same quantity always
reads the same way. Each keeps to a handful of characters, because columns are narrow
and a figure that changes width every refresh makes the screen jitter.
"""

from __future__ import annotations

MISSING = "\u2013"
"""What a figure shows when there is nothing to measure (no request in the window)."""

_COUNT_UNITS = ("", "k", "M", "G", "T")
_BYTE_UNITS = ("B", "kB", "MB", "GB", "TB")


def _scaled(value: float, base: float, units: tuple[str, ...], sep: str) -> str:
    """``value`` in the largest unit that keeps it below ``base``, to 2-3 significant digits."""
    index = 0
    while abs(value) >= base and index < len(units) - 1:
        value /= base
        index += 1
    if index == 0 and float(value).is_integer():
        return f"{int(value)}{sep}{units[0]}".rstrip()
    # Rounding 999.96 to one decimal gives 1000.0: let it carry over into the next unit.
    if abs(value) >= 9.95 and round(abs(value)) >= base and index < len(units) - 1:
        value /= base
        index += 1
    digits = 1 if abs(value) < 9.95 else 0
    return f"{value:.{digits}f}{sep}{units[index]}".rstrip()


def count(value: float) -> str:
    """A count or total: ``950``, ``1.2k``, ``34k``, ``5.6M``."""
    return _scaled(value, 1000.0, _COUNT_UNITS, "")


def rate(per_second: float) -> str:
    """Events per second: ``0``, ``0.4``, ``12``, ``1.2k``."""
    if per_second == 0:
        return "0"
    if abs(per_second) < 0.05:
        return "<0.1"
    if abs(per_second) < 9.95:
        return f"{per_second:.1f}"
    return count(round(per_second))


def size(num_bytes: float) -> str:
    """Bytes, in decimal units: ``512 B``, ``3.4 MB``, ``1.2 GB``."""
    return _scaled(num_bytes, 1000.0, _BYTE_UNITS, " ")


def duration(seconds: float | None) -> str:
    """A latency: ``0.8 ms``, ``250 ms``, ``1.25 s``, ``12.3 s``, ``2m05s``; an en dash for none."""
    if seconds is None:
        return MISSING
    if seconds < 0.00995:
        return f"{seconds * 1000:.1f} ms"
    if seconds < 0.9995:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 9.995:
        return f"{seconds:.2f} s"
    if seconds < 59.95:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}m{secs:02d}s"


def uptime(seconds: float) -> str:
    """How long something has run: ``42s``, ``5m03s``, ``3h02m``, ``2d04h``."""
    whole = int(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d{hours:02d}h"
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


def percent(fraction: float) -> str:
    """A fraction (0-1) as a percentage: ``0%``, ``0.4%``, ``12%``, ``100%``."""
    value = fraction * 100
    if value == 0:
        return "0%"
    if abs(value) < 0.05:
        return "<0.1%"
    if abs(value) < 9.95:
        return f"{value:.1f}%"
    return f"{value:.0f}%"
