"""Textual's terminal driver, for a terminal that may hang up under it.

When an ssh session or a terminal window closes, the gateway gets SIGHUP and stops
gracefully, and the dashboard exits. But every write to the dead terminal fails (EIO):
Textual's writer thread dies on the first one, its queue fills, and the app's shutdown
then waits forever to queue its last write, with the event loop, and so the workers'
drain, stuck behind it. :class:`HangUpTolerantDriver` drops the writes that fail instead:
there is no one left to read them.

A terminal that hangs up also sends SIGCONT, and Textual's driver leaves its SIGTSTP and
SIGCONT handlers in place after its app has ended. If the dashboard had been shown and
then hidden, that SIGCONT started the old app's terminal threads again, on the dead
terminal: its input thread spun on end-of-file and, not being a daemon, kept the stopped
gateway from exiting. The driver puts back the handlers it found once its app is done.
"""

from __future__ import annotations

import contextlib
import signal
from typing import Any, TextIO

from textual.drivers.linux_driver import LinuxDriver


class _DroppingFailedWrites:
    """A text file whose writes and flushes that fail are dropped."""

    def __init__(self, file: TextIO | None) -> None:
        self._file = file

    def write(self, text: str) -> int:
        with contextlib.suppress(OSError):
            return self._file.write(text) if self._file is not None else 0
        return 0

    def flush(self) -> None:
        with contextlib.suppress(OSError):
            if self._file is not None:
                self._file.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._file, name)


class HangUpTolerantDriver(LinuxDriver):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._signal_handlers = {sig: signal.getsignal(sig) for sig in _SUSPEND_SIGNALS}
        super().__init__(*args, **kwargs)
        self._file = _DroppingFailedWrites(self._file)  # type: ignore[assignment]

    def close(self) -> None:
        """Clean up as Textual does, and give back the suspend signals' handlers."""
        super().close()
        for sig, handler in self._signal_handlers.items():
            signal.signal(sig, handler)


_SUSPEND_SIGNALS = (signal.SIGTSTP, signal.SIGCONT)
"""The signals whose handlers Textual's driver sets for Ctrl+Z and never takes back."""
