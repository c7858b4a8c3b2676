"""How the suite is handed to scripts/test's pytest-xdist workers (``-n 2 --dist loadfile``): every test file
whole to one worker, the longest files first, and every test under a node id of its own.

- **Longest first.**  A worker takes the next file when it finishes one; a two-minute file started last would
  leave the other worker idle for two minutes at the end.  The fault test, the browser tests and the
  multi-process integration tests start first (``--no-loadscope-reorder`` keeps this order, where xdist would
  otherwise order files by how many tests they hold).
- **A node id each.**  xdist hands tests to workers by node id, and of several items sharing one it runs only
  the first.  schemathesis alone names every operation of a test alike (tests/fuzz/test_fuzz_openapi.py adds a
  pytest parametrization to tell them apart); items sharing a node id stop the run here, so that no test is
  ever dropped silently.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

# Path prefixes (from the repository root) of the files to start first, in this order; every other file after
# them, in collection order.
FIRST = (
    "tests/faults/",
    "tests/e2e/",
    "tests/integration/",
    "tests/test_backup_restore.py",
    "tests/fuzz/",
)


def rank(item: Any) -> int:
    nodeid = item.nodeid
    for position, prefix in enumerate(FIRST):
        if nodeid.startswith(prefix):
            return position
    return len(FIRST)


def longest_first(items: list[Any]) -> None:
    """Reorder ``items`` in place: files under FIRST first (a stable sort, so each file stays whole)."""
    items.sort(key=rank)


def own_node_ids(items: list[Any]) -> None:
    """Raise a UsageError naming any node id that two collected items share."""
    shared = sorted(nodeid for nodeid, n in Counter(item.nodeid for item in items).items() if n > 1)
    if shared:
        raise pytest.UsageError(
            f"tests share a node id (pytest-xdist would run only the first of each): {', '.join(shared)}"
        )
