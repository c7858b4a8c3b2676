"""Shared pytest set-up: test helpers in tests/support are importable by module name; the run's mode (sqlite or
postgres, tests/support/modes.py) is checked before any test runs, and its count of tests is printed at the end;
the load, fault and fuzzing tests (``@pytest.mark.once``) run in production mode only (tests/support/counting.py).
In postgres mode the test database is created and migrated by the database owner and the tests then work on it as
the restricted role, as the services do in production (docs/deploy.md, "Database roles")."""

import os
import sys
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

SUPPORT = Path(__file__).parent / "support"
if str(SUPPORT) not in sys.path:
    sys.path.insert(0, str(SUPPORT))

import counting  # noqa: E402 - importable once tests/support is on the path
import modes  # noqa: E402
import scheduling  # noqa: E402

# Every hypothesis test draws the same examples on every run and machine (a failure is the code's, reproducible,
# never a draw's luck); none writes an example database into the tree.  A test's own @settings add to this.
hypothesis_settings.register_profile("smishguard", derandomize=True, database=None)
hypothesis_settings.load_profile("smishguard")

modes.own_redis_prefix_per_worker()  # pytest-xdist (scripts/test runs two workers): in-process counters apart


def pytest_configure(config: pytest.Config) -> None:
    if getattr(config, "workerinput", None) is not None:
        return  # a pytest-xdist worker: the controller checked
    problem = modes.problem()
    if problem is not None:
        raise pytest.UsageError(f"test mode {modes.MODE}: {problem}")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Load, fault and fuzzing tests (``@pytest.mark.once``) run once, in production mode: in SQLite mode they are
    deselected (not skipped) and counted apart (tests/support/counting.py).  Every test has a node id of its own
    and the longest files come first (tests/support/scheduling.py: how the xdist workers share the suite)."""
    scheduling.own_node_ids(items)
    if not modes.POSTGRES:
        both, once = counting.split_once(items)
        if once:
            config.hook.pytest_deselected(items=once)
            items[:] = both
    scheduling.longest_first(items)


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


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings):
    """In postgres mode pytest-django creates and migrates the test database as the owner
    (SMISHGUARD_MIGRATE_DATABASE_URL); django_db_setup below then hands it to the restricted role."""
    if modes.POSTGRES:
        _connect_as(modes.owner_url())


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Once the owner has migrated the test database: the restricted role gets the services' privileges (as
    `smishguard migrate` gives them) and every test connects as that role; the owner drops the database after."""
    if not modes.POSTGRES:
        yield
        return
    from django.db import connection

    from smishguard import dbroles

    services_url = os.environ["SMISHGUARD_DATABASE_URL"]
    with django_db_blocker.unblock():
        dbroles.grant_privileges(connection, dbroles.role_of(services_url))
        _connect_as(services_url)
    yield
    with django_db_blocker.unblock():
        _connect_as(modes.owner_url())


def _connect_as(url: str) -> None:
    """Point the default database connection at ``url``'s role (same server, same test database name)."""
    import dj_database_url
    from django.db import connection

    parsed = dj_database_url.parse(url)
    connection.close()
    for key in ("USER", "PASSWORD", "HOST", "PORT"):
        connection.settings_dict[key] = parsed.get(key) or ""
