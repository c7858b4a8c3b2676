"""Twilio fixtures shared by the messaging and reports tests: the fake Twilio server, settings pointing at it,
employees with phones, and the real worker run in this process until every message is finished.

Use them from a conftest.py (``from twilio_fixtures import configure, fake, make_employees, work``) or from a
test module (the same import: pytest finds fixtures in the module's namespace).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterator

import pytest
from fake_twilio import FakeTwilio

from smishguard.config import TwilioSettings

SENDERS = ("+15005550006", "+15005550007")
PUBLIC_URL = "https://smishguard.example.com"


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    server = FakeTwilio(numbers=SENDERS).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def configure(settings, fake: FakeTwilio) -> Callable[..., TwilioSettings]:
    """Point smishguard at the fake server; keyword arguments override TwilioSettings fields."""

    def apply(**overrides: object) -> TwilioSettings:
        values: dict[str, object] = {
            "account_sid": fake.account_sid,
            "auth_token": fake.auth_token,
            "from_numbers": SENDERS[:1],
            "api_base": fake.url,
            "public_url": PUBLIC_URL,
            "rate_per_second": 1000.0,
            "timeout_seconds": 2.0,
            "send_lease_seconds": 3.0,
            "max_attempts": 5,
        }
        values.update(overrides)
        twilio = TwilioSettings(**values)  # type: ignore[arg-type]
        settings.SMISHGUARD = dataclasses.replace(settings.SMISHGUARD, twilio=twilio)
        return twilio

    apply()
    return apply


@pytest.fixture
def make_employees(db) -> Callable[..., list]:
    from smishguard.accounts import services

    def make(count: int, *, start: int = 0, **kwargs: object) -> list:
        return [
            services.add_employee(
                email=f"person{n}@example.com", name=f"Person {n}", phone=f"+4477009{n:05d}", **kwargs
            )
            for n in range(start, start + count)
        ]

    return make


def run_worker(timeout: float = 20.0) -> int:
    """django-tasks-db's worker, in this process, until every message is finished."""
    from smishguard.messaging import worker

    with keeping_the_test_connection():
        return worker.run(interval=0.02, until_idle=True, timeout=timeout, handle_signals=False, recovery_every=0.2)


@contextlib.contextmanager
def keeping_the_test_connection() -> Iterator[None]:
    """Keep Django from closing the test's connection while the worker runs inside the test's transaction.

    django-tasks-db's worker calls ``close_old_connections()`` on each pass, as a long-running process should;
    inside a test's transaction the connection's autocommit differs from its settings, so Django would close it
    and end the test's transaction with it (on PostgreSQL: "the connection is closed"; SQLite's in-memory test
    database is never closed).  As Django's own test client disconnects ``close_old_connections`` from the
    request signals, the connections in an atomic block are kept open here for the duration.
    """
    from django.db import connections

    kept = [conn for conn in connections.all(initialized_only=True) if conn.in_atomic_block]
    for conn in kept:
        conn.close_if_unusable_or_obsolete = lambda: None
    try:
        yield
    finally:
        for conn in kept:
            del conn.close_if_unusable_or_obsolete


@pytest.fixture
def work() -> Callable[..., int]:
    return run_worker
