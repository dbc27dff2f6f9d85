"""Resource sampling: our own processes, and cgroup limits over the machine's figures."""

from __future__ import annotations

import os
from pathlib import Path

import psutil

from llm_gateway.metrics.resources import (
    ResourceSampler,
    cgroup_memory_limit,
    cgroup_memory_used,
    usable_cpus,
)

GIB = 1 << 30


def write(root: Path, name: str, text: str) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n")


def test_cgroup_v2_limits(tmp_path: Path) -> None:
    write(tmp_path, "memory.max", str(GIB))
    write(tmp_path, "memory.current", str(GIB // 4))
    write(tmp_path, "cpu.max", "50000 100000")

    assert cgroup_memory_limit(tmp_path) == GIB
    assert cgroup_memory_used(tmp_path) == GIB // 4
    assert usable_cpus(tmp_path) == 1


def test_cgroup_v2_without_limits(tmp_path: Path) -> None:
    write(tmp_path, "memory.max", "max")
    write(tmp_path, "cpu.max", "max 100000")

    assert cgroup_memory_limit(tmp_path) is None
    assert usable_cpus(tmp_path) == len(os.sched_getaffinity(0))


def test_cgroup_v1_limits_and_its_spelling_of_unlimited(tmp_path: Path) -> None:
    write(tmp_path, "memory/memory.limit_in_bytes", str(2 * GIB))
    write(tmp_path, "memory/memory.usage_in_bytes", str(GIB))
    write(tmp_path, "cpu/cpu.cfs_quota_us", "-1")
    write(tmp_path, "cpu/cpu.cfs_period_us", "100000")
    assert cgroup_memory_limit(tmp_path) == 2 * GIB
    assert cgroup_memory_used(tmp_path) == GIB
    assert usable_cpus(tmp_path) == len(os.sched_getaffinity(0))

    write(tmp_path, "memory/memory.limit_in_bytes", "9223372036854771712")
    assert cgroup_memory_limit(tmp_path) is None


def test_no_cgroup_at_all(tmp_path: Path) -> None:
    assert cgroup_memory_limit(tmp_path) is None
    assert cgroup_memory_used(tmp_path) is None


def test_a_cgroup_limit_replaces_the_machine_total(tmp_path: Path) -> None:
    write(tmp_path, "memory.max", str(GIB // 2))
    write(tmp_path, "memory.current", str(GIB // 8))

    resources = ResourceSampler(tmp_path).sample([os.getpid()])

    assert resources.system_memory_total_bytes == GIB // 2
    assert resources.system_memory_used_bytes == GIB // 8


def test_samples_our_processes_and_skips_vanished_ones(tmp_path: Path) -> None:
    sampler = ResourceSampler(tmp_path)
    gone = 2**22 + 1  # above the largest pid_max Linux allows, so never a live process
    own_rss = psutil.Process().memory_info().rss

    resources = sampler.sample([os.getpid(), gone])

    # Our own resident size, give or take what the sampling itself allocated.
    assert abs(resources.gateway_memory_bytes - own_rss) < 16 << 20
    assert resources.system_memory_total_bytes == psutil.virtual_memory().total
    assert resources.cpu_count == len(os.sched_getaffinity(0))
    assert sampler.sample([os.getpid()]).gateway_cpu_percent >= 0.0
