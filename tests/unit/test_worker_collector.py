"""The worker's garbage-collector settings, checked in a fresh interpreter of their own.

The settings are process-wide, so they are applied in a child process rather than in
the one running the tests.
"""

from __future__ import annotations

import subprocess
import sys

import orjson

from llm_gateway.supervisor.worker import FULL_COLLECTION_AFTER

CHILD = """
import gc, json
from llm_gateway.supervisor.worker import tune_collector
before = gc.get_threshold()
tune_collector()
after = gc.get_threshold()
print(json.dumps({
    "before": before,
    "after": after,
    "frozen": gc.get_freeze_count(),
    "enabled": gc.isenabled(),
}))
"""


def test_the_worker_freezes_start_up_and_makes_full_collections_rare() -> None:
    out = subprocess.run(
        [sys.executable, "-c", CHILD], capture_output=True, check=True, timeout=60
    ).stdout
    result = orjson.loads(out)
    young, middle, full = result["before"]
    assert result["after"] == [young, middle, FULL_COLLECTION_AFTER]
    assert full < FULL_COLLECTION_AFTER
    assert result["frozen"] > 1000
    # Rarer, not off: a reference cycle that does leak is still freed in time.
    assert result["enabled"] is True
