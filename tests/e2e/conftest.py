"""The tmux terminal every end-to-end test drives."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.tmux import Tmux


@pytest.fixture
def tmux() -> Iterator[Tmux]:
    terminal = Tmux()
    try:
        yield terminal
    finally:
        terminal.close()
