"""Keep the run's CPUs from idling, so latency measures the software, not CPU wake-ups.

At one connection the server, the mock and ``wrk`` take turns, and each turn wakes a
CPU that had nothing to do. On a virtual machine an idle vCPU is halted and handed back
to the host; waking it can take milliseconds. Measured here (Firecracker, 2 vCPUs), the
mock alone on one CPU answering ``wrk`` on the other had a p99 of 5.4 ms at one
connection, 1.5 ms with both CPUs kept busy; a gateway, which adds two more cross-CPU
hops per request, suffers it twice over.

So each CPU gets a busy loop at ``SCHED_IDLE`` priority: it runs only when nothing else
wants that CPU and is preempted at once when something does, so it keeps the vCPU
running without taking time from the processes measured.

That holds only with Linux's session autogroups off (``sched_autogroup_enabled``, on by
default): with them, CPU time is shared between sessions first, and a ``SCHED_IDLE`` task
yields at once only within its own. A tmux pane is a session of its own, and a group's
weight on each CPU follows where its load is: a dashboard's supervisor on the load CPU,
its worker busy on the other, got next to nothing against the spinner there (runnable
yet waiting 95% of the time under load; 2.5% with autogroups off). So they are turned
off while the spinners run, and restored after.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

SPIN = ["sh", "-c", "while :; do :; done"]
AUTOGROUP = Path("/proc/sys/kernel/sched_autogroup_enabled")


@contextmanager
def cpus_kept_awake(cpus: Iterable[int]) -> Iterator[None]:
    cpus = list(cpus)
    if not cpus:
        yield
        return
    with autogroups_off():
        spinners = [
            subprocess.Popen(["chrt", "--idle", "0", "taskset", "-c", str(cpu), *SPIN])
            for cpu in cpus
        ]
        try:
            yield
        finally:
            for spinner in spinners:
                spinner.kill()
                spinner.wait()


@contextmanager
def autogroups_off() -> Iterator[None]:
    """Turn session autogroups off (it needs root), and back on after, if they were on."""
    try:
        was_on = AUTOGROUP.read_text(encoding="ascii").strip() != "0"
    except FileNotFoundError:
        was_on = False  # a kernel without autogroups
    if was_on:
        try:
            AUTOGROUP.write_text("0", encoding="ascii")
        except OSError as exc:
            was_on = False
            print(
                f"bench: cannot turn session autogroups off ({exc}): a process started in"
                " tmux may be starved by the spinners",
                file=sys.stderr,
            )
    try:
        yield
    finally:
        if was_on:
            AUTOGROUP.write_text("1", encoding="ascii")
