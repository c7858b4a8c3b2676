"""Fixtures shared by the reports tests."""

from __future__ import annotations

import pytest
from django.conf import settings

from smishguard.accounts import services, sessions


@pytest.fixture
def admin(client):
    """A security admin signed in on the test client (a real server-side session, its cookie set)."""
    person = services.add_employee(email="sec@example.com", name="Sec Admin", is_admin=True, phone="+447700900009")
    token, _ = sessions.create(person, request=None)
    client.cookies[settings.SESSION_COOKIE_NAME] = token
    return person
