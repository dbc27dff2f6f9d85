"""Worker processes, started so that the supervisor can work at idle CPU priority.

A dashboard frame costs a few milliseconds of CPU, and so does writing a quarter second's
access lines (about 750 of them at 3,000 requests/s). At normal priority the kernel lets
the supervisor finish its time slice before a worker that has just been handed a request
gets the CPU back; on a shared CPU that took a worker's p99 latency at one connection from
about 0.5 ms to 2 ms with the access log on, and to about 3 ms with the dashboard.
:func:`run_at_idle_priority` puts the supervisor's thread in ``SCHED_IDLE``: it then runs
only on CPU time no worker wants, and a worker that wakes up takes the CPU from it at once.
The price: while every CPU is busy serving, the supervisor barely runs, so the dashboard
pauses, its keys wait and log lines lag (past a bound they are dropped and counted, see
:mod:`.logs`); ``--supervisor-priority normal`` chooses the other side of that trade.

Linux's rules shape the rest. The policy belongs to a thread, and a new thread or process
takes it from the thread that created it; an unprivileged process cannot leave
``SCHED_IDLE`` (that needs ``RLIMIT_NICE``, which is 0 by default). So workers, the
first ones and every restart, are forked by :class:`Spawner`'s own thread, which is
started before the console exists and so keeps normal priority.
"""

from __future__ import annotations

import asyncio
import logging
import os
import resource
import subprocess
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

logger = logging.getLogger("llm_gateway.supervisor")


def raise_open_files_limit() -> int:
    """Raise the open-files limit to what the system allows; the limit that results.

    Each client connection and each upstream connection is a file descriptor, and a
    soft limit of 1,024 (a common default) would refuse connections long before a worker
    runs out of anything else. Raising the soft limit up to the hard one needs no
    privilege; workers inherit it.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard != resource.RLIM_INFINITY:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError) as exc:
            logger.warning("cannot raise the open-files limit from %d to %d: %s", soft, hard, exc)
        else:
            soft = hard
    return soft


def run_at_idle_priority() -> None:
    """Run the calling thread, and the threads it starts from now on, at idle priority.

    There is no way back for an unprivileged process, so call this on the supervisor's
    thread once the workers' :class:`Spawner` exists (or in ``top``, which has no workers).
    """
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except OSError as exc:
        # A sandbox may forbid it; the supervisor then costs the workers some latency.
        logger.warning("the supervisor runs at normal CPU priority: %s", exc.strerror)


class WorkerProcess:
    """A started worker: its pid, its output as a stream, its exit status, a way to kill it."""

    def __init__(self, popen: subprocess.Popen[bytes], output: asyncio.StreamReader) -> None:
        self._popen = popen
        self.pid = popen.pid
        self.output = output
        """Everything the worker prints, stdout and stderr together."""

    def kill(self) -> None:
        self._popen.kill()

    async def wait(self) -> int:
        """Its exit status once it has exited; minus the signal's number if one killed it."""
        # Already reaped (``kill`` polls first), its pid may belong to another process.
        if self._popen.poll() is not None:
            return self._popen.returncode
        # A pidfd becomes readable when the process exits, so the loop itself notices,
        # without a thread blocked in waitpid for every worker.
        loop = asyncio.get_running_loop()
        exited = asyncio.Event()
        pidfd = os.pidfd_open(self.pid)
        loop.add_reader(pidfd, exited.set)
        try:
            await exited.wait()
        finally:
            loop.remove_reader(pidfd)
            os.close(pidfd)
        return self._popen.wait()


class Spawner:
    """Starts worker processes from a thread of its own, which keeps normal priority."""

    def __init__(self, output_line_limit: int) -> None:
        self._output_line_limit = output_line_limit
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="worker-spawner")
        # Start the thread now, while this thread's priority is still normal: a thread
        # takes its creator's policy, and it is the one every worker is forked from.
        self._thread.submit(int).result()

    async def start(self, argv: Sequence[str], pass_fds: Sequence[int]) -> WorkerProcess:
        """Start ``argv`` in a process group of its own, with ``pass_fds`` inherited.

        Its own process group, so that Ctrl+C reaches the supervisor alone, which then
        stops the workers gracefully. The descriptors must stay open until this returns.
        """

        def fork() -> subprocess.Popen[bytes]:
            return subprocess.Popen(
                argv,
                pass_fds=pass_fds,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                process_group=0,
            )

        loop = asyncio.get_running_loop()
        popen = await loop.run_in_executor(self._thread, fork)
        assert popen.stdout is not None
        output = asyncio.StreamReader(limit=self._output_line_limit)
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(output), popen.stdout)
        return WorkerProcess(popen, output)

    def close(self) -> None:
        self._thread.shutdown()
