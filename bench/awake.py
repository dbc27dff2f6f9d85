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
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

SPIN = ["sh", "-c", "while :; do :; done"]


@contextmanager
def cpus_kept_awake(cpus: Iterable[int]) -> Iterator[None]:
    spinners = [
        subprocess.Popen(["chrt", "--idle", "0", "taskset", "-c", str(cpu), *SPIN]) for cpu in cpus
    ]
    try:
        yield
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()
