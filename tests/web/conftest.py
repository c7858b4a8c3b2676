"""Fixtures for the web pages (home pages, layout, headers): people, keys, signed-in clients.

Kept in tests/support/page_fixtures.py, shared with tests/accounts and tests/passkeys/views.
"""

from page_fixtures import add_key, admin, employee, login, second_admin

__all__ = ["add_key", "admin", "employee", "login", "second_admin"]
