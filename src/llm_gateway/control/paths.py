"""Where a gateway's control socket lives, so that ``top --port N`` finds it without help.

``$XDG_RUNTIME_DIR/llm-gateway/<port>.sock``: the runtime directory is the user's own
(0700, on tmpfs, emptied at logout), the place systemd and desktops give a user's
sockets. Without it (a container, cron, a system service), a directory of our own under
the temp dir, named after the user's id. Either way the ``llm-gateway`` directory is
made 0700, and one we did not make, or that others can enter, is refused: in a shared
``/tmp`` someone else could have made it first.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path


class ControlPathError(OSError):
    """The socket's directory cannot be made, or is not safely ours."""


def default_directory() -> Path:
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isabs(runtime) and os.path.isdir(runtime):
        return Path(runtime) / "llm-gateway"
    return Path(tempfile.gettempdir()) / f"llm-gateway-{os.getuid()}"


def default_socket_path(port: int) -> Path:
    """Where the gateway listening on ``port`` puts its control socket by default."""
    return default_directory() / f"{port}.sock"


def make_private_directory(directory: Path) -> None:
    """Make ``directory`` (0700) unless it exists; refuse one that is not ours alone."""
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = directory.lstat()
    except OSError as exc:
        raise ControlPathError(f"cannot make {directory}: {exc.strerror}") from None
    if not stat.S_ISDIR(info.st_mode):
        raise ControlPathError(f"{directory} is not a directory")
    if info.st_uid != os.getuid():
        raise ControlPathError(f"{directory} belongs to another user (uid {info.st_uid})")
    if stat.S_IMODE(info.st_mode) & 0o077:
        # Ours, but opened up (an old umask, a hand-made directory): close it again.
        os.chmod(directory, 0o700)
