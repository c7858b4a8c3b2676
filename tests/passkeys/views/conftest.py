"""Fixtures for the passkeys pages (sign-in, enrolment, my keys, key coverage): people, keys, clients.

Kept in tests/support/page_fixtures.py, shared with tests/web and tests/accounts; their ``employee`` replaces
tests/passkeys/conftest.py's here, as these tests were written against it.
"""

import pytest
from django.test import Client
from page_fixtures import add_key, admin, employee, login, second_admin

__all__ = ["add_key", "admin", "employee", "login", "second_admin"]


@pytest.fixture
def client() -> Client:
    """pytest-django's own client, as these tests had in tests/web (tests/passkeys/conftest.py's adds an Origin)."""
    return Client()
