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
frozen = gc.get_freeze_count()

# A cycle made after tuning is still found by a full collection.
class Node:
    pass
node = Node()
node.self = node
del node
freed = gc.collect()
print(json.dumps({"before": before, "after": after, "frozen": frozen, "freed": freed}))
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
    assert result["freed"] >= 1
