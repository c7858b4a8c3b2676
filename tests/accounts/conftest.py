"""Fixtures for the accounts pages (employees, four-eyes, sessions, audit trail): people, keys, clients.

Kept in tests/support/page_fixtures.py, shared with tests/web and tests/passkeys/views.
"""

from page_fixtures import add_key, admin, employee, login, second_admin

__all__ = ["add_key", "admin", "employee", "login", "second_admin"]
