"""What the fuzzing tests (tests/fuzz) share: hypothesis settings that keep CI deterministic, one example isolated.

Every test in tests/fuzz is ``@pytest.mark.once`` (tests/support/counting.py): fuzzing runs once, in production mode.

Determinism: ``derandomize=True`` makes hypothesis draw its examples from a seed derived from the test itself, so
every run (a developer's, CI's) tries the same inputs, and ``database=None`` keeps it from replaying failures it
saved in a local .hypothesis folder, which CI's fresh clone would not have.  A crash found once is kept as an
``@example(...)`` or a plain regression test, so it stays tried when the generated inputs change.  ``deadline=None``:
examples go through the database and Redis, and timing is no property of ours (no wall-clock assertions).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import modes
from django.db import transaction
from hypothesis import HealthCheck, settings

# Function-scoped fixtures (the database, the fake Twilio server) are set up once per test and shared by its
# examples: each example runs in a savepoint that is rolled back (rolled_back() below).
FUZZ = settings(
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=False,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


def clear_rate_limit_counters() -> None:
    """In production mode the rate-limit counters live in Redis, outside the database's savepoints."""
    if modes.POSTGRES:
        from django.core.cache import caches

        redis = getattr(caches["ratelimit"], "redis", None)
        if redis is not None:
            redis.clear_prefixed()


@contextlib.contextmanager
def rolled_back() -> Iterator[None]:
    """One example's requests in a savepoint rolled back after it (and no rate-limit counters left from the one
    before), so that each example starts from the same rows."""
    clear_rate_limit_counters()
    with transaction.atomic():
        yield
        transaction.set_rollback(True)
