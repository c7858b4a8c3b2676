"""Fixtures for the passkeys tests: an employee with an enrolment link, policy switches, API helpers."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

import pytest
from softkey import SoftKey

from smishguard.accounts.services import add_employee, invite

REGISTER_OPTIONS = "/api/webauthn/register/options"
REGISTER_VERIFY = "/api/webauthn/register/verify"
LOGIN_OPTIONS = "/api/webauthn/login/options"
LOGIN_VERIFY = "/api/webauthn/login/verify"


def post(client: Any, url: str, body: Any, **extra: Any) -> Any:
    """A JSON POST as smishguard's own pages send it (a browser adds Origin to every POST)."""
    from django.conf import settings

    data = body if isinstance(body, str | bytes) else json.dumps(body)
    extra.setdefault("HTTP_ORIGIN", settings.SMISHGUARD.origin)
    return client.post(url, data=data, content_type="application/json", **extra)


@pytest.fixture
def client() -> Any:
    """pytest-django's client, sending the Origin that smishguard's own pages send (browsers add it to every
    POST, PATCH and DELETE; the cookie-authenticated JSON endpoints refuse a request without it)."""
    from django.conf import settings
    from django.test import Client

    return Client(HTTP_ORIGIN=settings.SMISHGUARD.origin)


@pytest.fixture
def api_post(client: Any) -> Callable[..., Any]:
    return lambda url, body, **extra: post(client, url, body, **extra)


@pytest.fixture
def employee(db: Any) -> Any:
    return add_employee(email="ada@example.com", name="Ada Lovelace", department="Engineering")


@pytest.fixture
def token(employee: Any) -> str:
    return invite(employee).token


@pytest.fixture
def set_policy(settings: Any) -> Callable[..., None]:
    """Override settings.SMISHGUARD.webauthn fields for one test."""

    def _set(**changes: Any) -> None:
        current = settings.SMISHGUARD
        settings.SMISHGUARD = dataclasses.replace(current, webauthn=dataclasses.replace(current.webauthn, **changes))

    return _set


@pytest.fixture
def enrol(client: Any) -> Callable[..., Any]:
    """Run register/options and register/verify for a soft key; returns the verify response."""

    def _enrol(key: SoftKey, token: str, *, name: str | None = None, **register_kwargs: Any) -> Any:
        options = post(client, REGISTER_OPTIONS, {"token": token})
        assert options.status_code == 200, options.content
        body = {**key.register(options.json(), **register_kwargs), "token": token}
        if name is not None:
            body["name"] = name
        return post(client, REGISTER_VERIFY, body)

    return _enrol


@pytest.fixture
def enrolled(employee: Any, token: str, enrol: Callable[..., Any]) -> SoftKey:
    """A soft key enrolled for the employee."""
    key = SoftKey()
    response = enrol(key, token)
    assert response.status_code == 201, response.content
    return key


@pytest.fixture
def sign_in(client: Any) -> Callable[..., Any]:
    """login/options then login/verify with a soft key; returns the verify response."""

    def _sign_in(key: SoftKey, email: str | None = "ada@example.com", **assertion_kwargs: Any) -> Any:
        options = post(client, LOGIN_OPTIONS, {"email": email} if email else {})
        assert options.status_code == 200, options.content
        return post(client, LOGIN_VERIFY, key.assertion(options.json(), **assertion_kwargs))

    return _sign_in
