"""Make untrusted strings safe to draw: plain text, no markup, no terminal control.

Model names, log messages and error texts come from clients and upstreams. Drawn as
Rich markup, ``[link=...]`` or ``[/]`` in them would be interpreted; written to the
terminal raw, an escape sequence could move the cursor, retitle the window or worse.
So everything from outside goes through :func:`inert`: the result is a
:class:`rich.text.Text` (never parsed as markup) in which every control character is
replaced by a visible escape such as ``\\x1b``.
"""

from __future__ import annotations

import re

from rich.text import Text

# C0 and C1 controls, DEL, and the Unicode bidirectional overrides/isolates that can
# make text display in a different order than it reads.
_BIDI = "\u200e\u200f\u202a-\u202e\u2066-\u2069"
_CONTROL = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}]")
_CONTROL_EXCEPT_NEWLINE = re.compile(f"[\x00-\x09\x0b-\x1f\x7f-\x9f{_BIDI}]")


def _visible(match: re.Match[str]) -> str:
    char = match.group()
    if char == "\t":
        return " "
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def inert_str(value: str, *, keep_newlines: bool = False) -> str:
    """``value`` with every control character made visible (newlines kept if asked)."""
    pattern = _CONTROL_EXCEPT_NEWLINE if keep_newlines else _CONTROL
    return pattern.sub(_visible, value)


def inert(value: str, style: str = "", *, keep_newlines: bool = False) -> Text:
    """``value`` as plain :class:`~rich.text.Text`, safe to draw whatever it contains."""
    return Text(inert_str(value, keep_newlines=keep_newlines), style=style)
