"""``bench/run --profile``: record where a server spends its time under full load.

py-spy samples the server's whole process tree from outside (no restart, no code change)
while ``wrk`` runs at full load, and writes a flame graph per target, path and round
into the run's ``profiles/`` folder. py-spy is not a project dependency; the driver looks
for it on ``PATH`` and in the project's ``.venv``.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SAMPLES_PER_S = 250


def find_py_spy(venv: Path) -> str | None:
    return shutil.which("py-spy") or shutil.which("py-spy", path=str(venv / "bin"))


@contextmanager
def recording(py_spy: str, pid: int, seconds: int, output: Path) -> Iterator[None]:
    """Sample ``pid`` and its children for ``seconds`` while the body runs."""
    output.parent.mkdir(exist_ok=True)
    argv = [
        py_spy, "record", "--pid", str(pid), "--subprocesses", "--nonblocking",
        "--rate", str(SAMPLES_PER_S), "--duration", str(seconds), "--output", str(output),
    ]  # fmt: skip
    with output.with_suffix(".log").open("wb") as log:
        recorder = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        try:
            yield
        finally:
            recorder.wait(seconds + 30)
