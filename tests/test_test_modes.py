"""The mode the suite runs in is the one it says: scripts/test runs every test on SQLite, then on PostgreSQL +
Redis (tests/support/modes.py)."""

import os

import modes
from django.db import connection


def test_the_database_is_the_modes(db):
    with connection.cursor() as cursor:
        if modes.POSTGRES:
            cursor.execute("SELECT version()")
            assert cursor.fetchone()[0].startswith("PostgreSQL ")
            # as the restricted role the services use (scripts/services: smishguard_app), not the owner
            cursor.execute("SELECT current_user")
            assert cursor.fetchone()[0] == "smishguard_app"
        else:
            cursor.execute("SELECT sqlite_version()")
            assert cursor.fetchone()[0]
    assert connection.vendor == {"sqlite": "sqlite", "postgres": "postgresql"}[modes.MODE]


def test_redis_answers_in_production_mode():
    url = os.environ.get("SMISHGUARD_REDIS_URL")
    if modes.POSTGRES:
        assert modes.redis_answers(url)
    else:
        assert url is None  # the embedded mode has no Redis


def test_each_xdist_worker_counts_under_a_redis_prefix_of_its_own():
    """scripts/test runs two pytest-xdist workers: in production mode each one's in-process rate-limit counters
    are under its own Redis key prefix (modes.own_redis_prefix_per_worker), so one worker's tests never clear or
    count the other's."""
    from django.core.cache import caches

    worker = os.environ.get("PYTEST_XDIST_WORKER")
    counters = caches["ratelimit"]
    if modes.POSTGRES and worker:
        assert counters.redis.key_prefix == f"smishguard-{worker}"
        assert counters.redis.make_key("k").startswith(f"smishguard-{worker}:")
    elif modes.POSTGRES:
        assert counters.redis.key_prefix == "smishguard"
    else:
        assert not hasattr(counters, "redis")
