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
