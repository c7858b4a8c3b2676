"""Fixtures for the pages' tests: people, keys, and test clients signed in as someone.

Shared by tests/web, tests/accounts and tests/passkeys/views, whose conftest.py each import them (the pages moved
from web to the apps that own them, issue 12).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client

from smishguard.accounts import services, sessions
from smishguard.accounts.models import Employee
from smishguard.passkeys.models import Credential


def make_key(
    employee: Employee, *, name: str = "", model: str = "YubiKey 5 NFC", revoked: bool = False, flagged: bool = False
) -> Credential:
    from django.utils import timezone

    now = timezone.now()
    return Credential.objects.create(
        employee=employee,
        credential_id=secrets.token_bytes(32),
        public_key=b"not-a-real-key",
        aaguid="cb69481e-8ff7-4039-93ec-0a2729a154a8",
        model=model,
        attestation_format="packed",
        name=name or f"key of {employee.name}",
        revoked_at=now if revoked else None,
        revoke_reason="test" if revoked else "",
        flagged_at=now if flagged else None,
        flag_reason="signature counter went backwards" if flagged else "",
    )


@pytest.fixture
def admin(db: None) -> Employee:
    return services.add_employee(email="ada@example.com", name="Ada Admin", department="Security", is_admin=True)


@pytest.fixture
def second_admin(db: None) -> Employee:
    """An admin for a month, with a key as old: eligible to approve the first admin's four-eyes requests."""
    import time_machine
    from django.utils import timezone

    with time_machine.travel(timezone.now() - timedelta(days=30), tick=False):
        person = services.add_employee(email="sam@example.com", name="Sam Second", department="Security", is_admin=True)
        make_key(person, name="Sam's key")
    return person


@pytest.fixture
def employee(db: None) -> Employee:
    return services.add_employee(
        email="carl@example.com", name="Carl Support", department="Support", phone="+14155550103", groups=["support"]
    )


def signed_in_client(person: Employee, *, user_agent: str = "Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0") -> Client:
    from django.test import RequestFactory

    client = Client(HTTP_USER_AGENT=user_agent)
    signin_request = RequestFactory().post("/api/webauthn/login/verify", HTTP_USER_AGENT=user_agent)
    token, session = sessions.create(person, request=signin_request)
    client.cookies[settings.SESSION_COOKIE_NAME] = token
    client.sg_session = session  # type: ignore[attr-defined]
    return client


def sign_in_new(client: Client, *, admin: bool = True, email: str = "sec@example.com") -> Employee:
    """Add an employee (an admin by default) and put a live session of theirs in ``client``'s cookie."""
    person = services.add_employee(email=email, name="Sec Admin", is_admin=admin)
    token, _ = sessions.create(person, request=None)
    client.cookies[settings.SESSION_COOKIE_NAME] = token
    return person


@pytest.fixture
def login() -> Callable[[Employee], Client]:
    return signed_in_client


@pytest.fixture
def add_key() -> Callable[..., Credential]:
    return make_key
