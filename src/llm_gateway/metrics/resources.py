"""CPU and memory of the gateway's own processes and of the machine it runs on.

The supervisor calls :meth:`ResourceSampler.sample` about once a second with the pids of
itself and its workers. psutil measures CPU between two calls on the same process object,
so the sampler keeps one per pid and drops those of processes that are gone.

In a container the machine's figures mislead: the limit that matters is the cgroup's.
Where a cgroup (v2, or v1) sets a memory limit or a CPU quota, it replaces the machine's
total memory and core count, and the cgroup's own usage replaces the machine's.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from pathlib import Path

import psutil

from llm_gateway.metrics.snapshot import Resources

CGROUP_ROOT = Path("/sys/fs/cgroup")


class ResourceSampler:
    def __init__(self, cgroup_root: Path = CGROUP_ROOT) -> None:
        self._cgroup = cgroup_root
        self._processes: dict[int, psutil.Process] = {}
        psutil.cpu_percent(None)

    def sample(self, pids: Iterable[int]) -> Resources:
        cpu = 0.0
        memory = 0
        processes: dict[int, psutil.Process] = {}
        for pid in pids:
            try:
                process = self._processes.get(pid) or psutil.Process(pid)
                with process.oneshot():
                    cpu += process.cpu_percent(None)
                    memory += process.memory_info().rss
            except psutil.Error:
                continue
            processes[pid] = process
        self._processes = processes

        machine = psutil.virtual_memory()
        limit = cgroup_memory_limit(self._cgroup)
        if limit is not None and limit < machine.total:
            total, used = limit, cgroup_memory_used(self._cgroup) or 0
        else:
            total, used = machine.total, machine.total - machine.available
        return Resources(
            gateway_cpu_percent=cpu,
            gateway_memory_bytes=memory,
            system_cpu_percent=psutil.cpu_percent(None) * (psutil.cpu_count() or 1),
            system_memory_used_bytes=used,
            system_memory_total_bytes=total,
            cpu_count=usable_cpus(self._cgroup),
        )


def cgroup_memory_limit(root: Path) -> int | None:
    """The cgroup's memory limit in bytes, or ``None`` when there is none."""
    v2 = _read(root / "memory.max")
    if v2 is not None:
        return None if v2 == "max" else int(v2)
    v1 = _read(root / "memory" / "memory.limit_in_bytes")
    # cgroup v1 spells "no limit" as a huge number near 2**63.
    if v1 is None or int(v1) >= 2**62:
        return None
    return int(v1)


def cgroup_memory_used(root: Path) -> int | None:
    used = _read(root / "memory.current") or _read(root / "memory" / "memory.usage_in_bytes")
    return None if used is None else int(used)


def usable_cpus(root: Path) -> int:
    """The cores this process may use: its affinity, capped by a cgroup CPU quota."""
    cpus = len(os.sched_getaffinity(0))
    quota = _cpu_quota(root)
    return cpus if quota is None else max(1, min(cpus, math.ceil(quota)))


def _cpu_quota(root: Path) -> float | None:
    v2 = _read(root / "cpu.max")
    if v2 is not None:
        quota, _, period = v2.partition(" ")
        return None if quota == "max" else int(quota) / int(period)
    quota_v1 = _read(root / "cpu" / "cpu.cfs_quota_us")
    period_v1 = _read(root / "cpu" / "cpu.cfs_period_us")
    if quota_v1 is None or period_v1 is None or int(quota_v1) <= 0:
        return None
    return int(quota_v1) / int(period_v1)


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii").strip()
    except (OSError, ValueError):
        return None
