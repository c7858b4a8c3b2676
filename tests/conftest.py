"""Shared pytest set-up: test helpers in tests/support are importable by module name; the run's mode (sqlite or
postgres, tests/support/modes.py) is checked before any test runs, and its count of tests is printed at the end;
the load, fault and fuzzing tests (``@pytest.mark.once``) run in production mode only (tests/support/counting.py)."""

import os
import sys
from pathlib import Path

import pytest

SUPPORT = Path(__file__).parent / "support"
if str(SUPPORT) not in sys.path:
    sys.path.insert(0, str(SUPPORT))

import counting  # noqa: E402 - importable once tests/support is on the path
import modes  # noqa: E402


def pytest_configure(config: pytest.Config) -> None:
    if getattr(config, "workerinput", None) is not None:
        return  # a pytest-xdist worker: the controller checked
    problem = modes.problem()
    if problem is not None:
        raise pytest.UsageError(f"test mode {modes.MODE}: {problem}")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Load, fault and fuzzing tests (``@pytest.mark.once``) run once, in production mode: in SQLite mode they are
    deselected (not skipped) and counted apart (tests/support/counting.py)."""
    if modes.POSTGRES:
        return
    both, once = counting.split_once(items)
    if once:
        config.hook.pytest_deselected(items=once)
        items[:] = both


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    """One line scripts/test reads: how many tests ran in this mode (those that run in both modes, and the
    production-mode-only ones apart), and how each ended."""
    counts = counting.count(modes.MODE, terminalreporter.stats)
    terminalreporter.write_line(counts.summary())
    count_file = os.environ.get("SMISHGUARD_TEST_COUNT_FILE")
    if count_file:
        Path(count_file).write_text(counts.count_file_line(), encoding="utf-8")


@pytest.fixture(autouse=True)
def _fresh_rate_limit_counters_in_redis():
    """In postgres mode the rate-limit counters live in the run's Redis, which outlives each test's database
    transaction: each test starts with none of them (the database counters roll back with the test)."""
    if modes.POSTGRES:
        from django.core.cache import caches

        counters = caches["ratelimit"]
        redis = getattr(counters, "redis", None)
        if redis is not None:
            redis.clear_prefixed()
