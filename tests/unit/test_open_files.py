"""The open-files limit is raised to the hard limit at start-up."""

from __future__ import annotations

import resource
from collections.abc import Iterator

import pytest

from llm_gateway.supervisor.processes import raise_open_files_limit


@pytest.fixture
def lowered() -> Iterator[int]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(soft, hard, 256), hard))
    try:
        yield hard
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_the_soft_limit_is_raised_to_the_hard_one_and_reported(lowered: int) -> None:
    assert raise_open_files_limit() == lowered
    assert resource.getrlimit(resource.RLIMIT_NOFILE) == (lowered, lowered)
